"""Whether an answer may be believed.

- `cite`: citation markers, their parsing and the text safe to show;
- `verify`: checking each claim of an answer against the sentences it cites;
- `conflicts`: sources that disagree on a value or a negation;
- `values`: the dates, numbers and amounts a sentence states.
"""
