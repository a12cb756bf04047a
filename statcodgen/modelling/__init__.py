"""fastText training and evaluation on real test data only, and the leak-free experiments that compare variants."""

from __future__ import annotations

from . import preprocess, params, train, evaluation, experiments, results

__all__ = [*preprocess.__all__, *params.__all__, *train.__all__, *evaluation.__all__, *experiments.__all__, *results.__all__]

from .preprocess import *  # noqa: F403
from .params import *  # noqa: F403
from .train import *  # noqa: F403
from .evaluation import *  # noqa: F403
from .experiments import *  # noqa: F403
from .results import *  # noqa: F403
