"""Stage 1 of SRPO: curate reflection data.

answer (policy attempts, graded) → reflect (teacher reflections) → build (five-block SFT data) /
filter (RL prompts by pass rate) → export (engine layouts); describe (image descriptions for text-only
teachers). Each step is a function here and a `srpo curate` command.
"""

from srpo.curate.answer import answer
from srpo.curate.build import build
from srpo.curate.describe import describe
from srpo.curate.export import export
from srpo.curate.filter import filter_prompts
from srpo.curate.reflect import reflect

__all__ = ["answer", "build", "describe", "export", "filter_prompts", "reflect"]
