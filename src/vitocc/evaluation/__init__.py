"""The paper's evaluation protocol over a run (`vitocc evaluate`) and comparisons of runs (`vitocc compare`)."""

from vitocc.evaluation.compare import Comparison, build_comparison, load_runs
from vitocc.evaluation.evaluate import EvalSettings, RunEvaluation, evaluate_run, evaluate_shape

__all__ = ["evaluate_run", "evaluate_shape", "EvalSettings", "RunEvaluation", "build_comparison", "load_runs",
           "Comparison"]
