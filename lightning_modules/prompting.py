"""Chat prompts and training targets. Pure functions: no torch, no Lightning.

The same two functions build what the model sees when it samples and what it is trained on, so
training and sampling can never drift apart.
"""

from __future__ import annotations

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


def render_prompt(tokenizer, problem_prompt: str, system_prompt: str | None = DEFAULT_SYSTEM_PROMPT) -> str:
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
