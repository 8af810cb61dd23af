"""solvertune ComfyUI nodes: link or copy this folder into ``ComfyUI/custom_nodes/`` (see ``nodes.py``)."""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
