"""fastText training and evaluation on real test data only, the label prior correction, the leak-free
experiments that compare variants, and the choice of the synthetic share on validation."""

from __future__ import annotations

from . import preprocess, params, train, prior, evaluation, experiments, selection, results

__all__ = [*preprocess.__all__, *params.__all__, *train.__all__, *prior.__all__, *evaluation.__all__, *experiments.__all__,
           *selection.__all__, *results.__all__]

from .preprocess import *  # noqa: F403
from .params import *  # noqa: F403
from .train import *  # noqa: F403
from .prior import *  # noqa: F403
from .evaluation import *  # noqa: F403
from .experiments import *  # noqa: F403
from .selection import *  # noqa: F403
from .results import *  # noqa: F403
