"""Sub-commands of the ``circle-rotate`` CLI, one module each (see ``circle_rotate.cli``)."""
