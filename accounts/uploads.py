"""Upload handling that never keeps more of a file than an avatar may weigh."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class OversizeUpload(UploadedFile):
    """A file that passed the byte limit: its size is known, its content was dropped."""

    def __init__(self, *, name: str, content_type: str, size: int, charset=None):
        super().__init__(io.BytesIO(), name, content_type, size, charset)


class SizeLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: past AVATAR_MAX_BYTES the rest of a file is counted,
    not stored, and the upload answers an ``OversizeUpload`` whose ``size`` tells."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.oversize = False

    def receive_data_chunk(self, raw_data: bytes, start: int):
        if start + len(raw_data) > settings.AVATAR_MAX_BYTES:
            self.oversize = True
        # None stops the chunk here: the memory/disk handlers after this one never see it.
        return None if self.oversize else raw_data

    def file_complete(self, file_size: int):
        if not self.oversize:
            return None
        return OversizeUpload(
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
        )
