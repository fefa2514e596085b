"""The critic: a human-vs-machine classifier that picks the best of several drafts.

    charrnn critic fit --model runs/folk -n 800     # writes runs/folk/critic.json
    model.generate(n=10, drafts=4)                  # 40 drafts sampled, the 10 most human kept

features: one tune as numbers, from its text (the report's judge reads the same vector, measured
with music21); scorer: critic.json scored in NumPy; fit: the scikit-learn fit; command: the CLI.
"""
from .features import FEATURE_NAMES, feature_vector, text_record  # noqa: F401
from .scorer import CRITIC_FILE, Critic  # noqa: F401
