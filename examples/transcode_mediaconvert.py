"""Start an AWS Elemental MediaConvert job for each video a browser uploads straight to S3.

``Media(on_confirm=...)`` runs app code on every direct upload that passed the
checks, just before it is published: the place to start a transcoding job.
This hook starts one MediaConvert job per video (MP4, WebM, QuickTime) whose
input is the original's key, and whose renditions (an H.264 MP4 at 720p and
at 360p) MediaConvert writes under the id's own prefix (an id such as
``3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4`` owns the keys under
``<id>/``, its original at ``<id>/clip.mp4``, its resizes next to it)::

    <id>/clip.mp4                      the original, as uploaded and checked
    <id>/renditions/clip-720p.mp4      written by MediaConvert
    <id>/renditions/clip-360p.mp4

So they belong to the id: ``media.delete(id)`` removes them with the
original and its resizes, and ``media.storage.url(rendition_key(...))`` is
their URL (presigned when the bucket is private), for a ``<video>``'s
``<source>``.  The poster stays the library's: ``media.resize_url(id,
"1280x720", mode="fill")`` (``pip install 's3media_wsgi[video]'``).

A MediaConvert job reads its input some seconds after it is queued, when the
confirm has published the original; should publishing fail, the job fails
on a missing input and nothing else is left.  Wire it up::

    import boto3
    from s3media_wsgi import Media, S3Storage
    from transcode_mediaconvert import TranscodeOnConfirm

    client = boto3.client("mediaconvert", region_name="eu-west-1")  # the account's endpoint
    media = Media(
        S3Storage("my-bucket"),
        secret_key=SECRET,
        on_confirm=TranscodeOnConfirm(client, "my-bucket", "arn:aws:iam::123456789012:role/MediaConvert"),
    )

The role is one MediaConvert may assume, with ``s3:GetObject`` on the bucket's
originals and ``s3:PutObject`` on ``*/renditions/*``.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("transcode")

#: The content types a job is started for.
VIDEO_TYPES = frozenset({"video/mp4", "video/webm", "video/quicktime"})
#: The renditions: (height, the most bits per second QVBR may spend).
RENDITIONS = ((720, 5_000_000), (360, 1_200_000))


def rendition_key(media_id: str, height: int) -> str:
    """The key MediaConvert writes the *height* rendition of *media_id* to.

    >>> rendition_key("3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4", 720)
    '3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4/renditions/clip-720p.mp4'
    """
    name = media_id.rpartition("/")[2]
    return f"{media_id}/renditions/{name.rpartition('.')[0]}-{height}p.mp4"


def job(bucket: str, media_id: str, role_arn: str) -> dict[str, Any]:
    """The ``create_job`` arguments for the original of *media_id* in *bucket*.

    >>> job("b", "3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4", "arn:role")["Settings"]["Inputs"][0]["FileInput"]
    's3://b/3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4/clip.mp4'
    """
    original = f"{media_id}/{media_id.rpartition('/')[2]}"  # the documented layout: <id>/<filename>
    outputs = [
        {
            "NameModifier": f"-{height}p",
            "ContainerSettings": {"Container": "MP4", "Mp4Settings": {}},
            "VideoDescription": {
                "Height": height,
                "CodecSettings": {
                    "Codec": "H_264",
                    "H264Settings": {"RateControlMode": "QVBR", "MaxBitrate": bitrate, "GopSize": 2.0},
                },
            },
            "AudioDescriptions": [
                {
                    "CodecSettings": {
                        "Codec": "AAC",
                        "AacSettings": {"Bitrate": 128_000, "CodingMode": "CODING_MODE_2_0", "SampleRate": 48_000},
                    }
                }
            ],
        }
        for height, bitrate in RENDITIONS
    ]
    return {
        "Role": role_arn,
        "UserMetadata": {"media_id": media_id},
        "Settings": {
            "Inputs": [
                {
                    "FileInput": f"s3://{bucket}/{original}",
                    "AudioSelectors": {"Audio Selector 1": {"DefaultSelection": "DEFAULT"}},
                    "VideoSelector": {},
                }
            ],
            "OutputGroups": [
                {
                    "Name": "File Group",
                    "OutputGroupSettings": {
                        "Type": "FILE_GROUP_SETTINGS",
                        "FileGroupSettings": {"Destination": f"s3://{bucket}/{media_id}/renditions/"},
                    },
                    "Outputs": outputs,
                }
            ],
        },
    }


class TranscodeOnConfirm:
    """An ``on_confirm`` hook: a MediaConvert job for each confirmed video; other uploads pass untouched.

    *client* is a boto3 ``mediaconvert`` client.  A job that cannot be
    started is logged: the upload is published all the same (its poster and
    the original still play), and the job can be started again later with
    :func:`job`.  Raise :class:`~s3media_wsgi.errors.UploadRefusedByApp`
    instead to refuse the upload.
    """

    def __init__(self, client: Any, bucket: str, role_arn: str) -> None:
        self.client, self.bucket, self.role_arn = client, bucket, role_arn

    def __call__(self, upload: Any) -> None:
        if upload.content_type not in VIDEO_TYPES:
            return
        try:
            answer = self.client.create_job(**job(self.bucket, upload.media_id, self.role_arn))
        except Exception:
            log.exception("no transcoding job for %s", upload.media_id)
            return
        log.info("transcoding job %s for %s", answer.get("Job", {}).get("Id"), upload.media_id)


__all__ = ["RENDITIONS", "VIDEO_TYPES", "TranscodeOnConfirm", "job", "rendition_key"]
