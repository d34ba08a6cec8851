"""The session's container image (built by ``image_build.py`` on first use)."""

from tests.deploy.image_build import image

__all__ = ["image"]
