"""The form of a ``Photo``: its image is a media id, uploaded by the field's widget."""

from __future__ import annotations

from django import forms
from gallery_common import Refused, confirmed_image  # on sys.path through settings.py

from s3media_wsgi import MediaId
from s3media_wsgi.adapters.django import get_media
from s3media_wsgi.adapters.django.widgets import MediaUploadWidget

from .models import Photo


class PhotoForm(forms.ModelForm):
    """A title and an image.

    The image's form field (``MediaFormField``, from the model's ``MediaField``)
    renders a file chooser that uploads straight to storage and submits the
    upload's receipt (the confirmed id, signed for its uploader); on the server
    it refuses a receipt that does not verify for this request's user
    (``receipt``: forged, expired, someone else's), a bare id (``id``: ids are
    in every URL; only an edited row's own id is kept), anything else
    (``invalid``), an upload whose file is not stored (``unconfirmed``: refused
    or deleted), and says so when storage does not answer (``unavailable``).
    """

    class Meta:
        model = Photo
        fields = ["title", "image"]
        widgets = {"image": MediaUploadWidget(accept="image/*,video/*,application/pdf")}

    def clean_image(self) -> MediaId:
        """The stored file the field accepted, with its size read back; and an image, as in every gallery.

        ``S3MEDIA_ALLOWED_TYPES`` may let a PDF be stored, which a page of resized pictures cannot show.
        """
        try:
            return confirmed_image(get_media(), self.cleaned_data["image"])
        except Refused as refused:
            raise forms.ValidationError(str(refused), code="refused") from None
