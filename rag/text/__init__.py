"""Pure language functions: no store, no model, no settings.

- `sentences`: sentence spans (Punkt) and word helpers;
- `tokens`: token counts with the tiktoken `cl100k_base` encoding;
- `align`: matching a question's words to a sentence's;
- `answertype`: what kind of answer a question asks for (a date, a number, a person, ...);
- `roles`: who did what to whom in a sentence (subject/object roles for verification).
"""
