"""The prompt format: chat prompts, training targets and label masking. No torch, no Lightning.

One ``PromptFormat`` (built by ``PolicyModule.configure_model`` and handed to the datamodule with
``connect``) makes both what the model sees when it samples and what it is trained on, so
training and sampling can never drift apart.
"""

from __future__ import annotations

import dataclasses

IGNORE_INDEX = -100  # label of a position that is not trained on (the prompt, padding)

DEFAULT_SYSTEM_PROMPT = (
    "You are a careful Python programmer. Answer with one complete Python function "
    "in a ```python code block."
)


def chat_messages(problem_prompt: str, system_prompt: str | None = DEFAULT_SYSTEM_PROMPT) -> list[dict]:
    """The chat messages for one problem.

    >>> [m["role"] for m in chat_messages("Write f.")]
    ['system', 'user']
    >>> chat_messages("Write f.", system_prompt=None)
    [{'role': 'user', 'content': 'Write f.'}]
    """
    messages = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": problem_prompt})
    return messages


def render_chat(tokenizer, problem_prompt: str, system_prompt: str | None = DEFAULT_SYSTEM_PROMPT) -> str:
    """The prompt text, ending where the assistant's answer begins."""
    return tokenizer.apply_chat_template(
        chat_messages(problem_prompt, system_prompt), tokenize=False, add_generation_prompt=True
    )


def answer_text(code: str) -> str:
    """The training target for a verified solution: the code in a python fence.

    >>> print(answer_text("def f():\\n    return 1\\n"))
    ```python
    def f():
        return 1
    ```
    """
    return "```python\n" + code.strip("\n") + "\n```"


@dataclasses.dataclass(frozen=True)
class PromptFormat:
    """How a problem becomes model text, and a verified solution a training example.

    ``render`` is the chat prompt (``system_prompt``, then the problem, ending where the answer
    begins); ``encode`` the token ids of prompt + answer + end of turn, with labels on the answer
    only (``IGNORE_INDEX`` on the prompt). ``pad_id`` pads batches.
    """

    tokenizer: object
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id

    def render(self, problem_prompt: str) -> str:
        return render_chat(self.tokenizer, problem_prompt, self.system_prompt)

    def encode(self, problem_prompt: str, code: str, max_length: int) -> dict | None:
        """``{"input_ids", "labels"}`` of one (problem, solution) pair; None if over ``max_length`` tokens."""
        return encode_pair(self.tokenizer, self.render(problem_prompt), answer_text(code), max_length)


def encode_pair(tokenizer, prompt_text: str, answer: str, max_length: int) -> dict | None:
    """Token ids of prompt + answer + end-of-turn, labels only on the answer (None if too long)."""
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    ids = prompt_ids + answer_ids
    if len(ids) > max_length:
        return None
    return {"input_ids": ids, "labels": [IGNORE_INDEX] * len(prompt_ids) + answer_ids}
