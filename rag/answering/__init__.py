"""The answerers and what they share.

- `extractive`: the offline answerer, quoting the best sentences of the retrieved passages;
- `generate`: the generative answerer, asking the chat model and checking its citations;
- `compose`, `ranking`, `answerability`: how the extractive answer is picked and whether to abstain;
- `refusal`: the answer given when the passages do not hold one;
- `messages`: the chat messages sent to the model.

Named `answering` rather than `answer` so the package never shadows `rag.answer()`.
"""
