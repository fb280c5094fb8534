"""The LLM path: extraction, question answering and routing behind the ``LLM`` port."""
