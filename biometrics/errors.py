"""The biometrics app's refusals: each code with its one wording (see atmsite.errors.ErrorCode).

`image_*` and `clip_*` are the face engine's refusals of an upload (`engine.ImageRejected.code` after the
prefix); they are shown with the engine's own words, which may name the limits.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from atmsite.errors import ErrorCode


class BiometricsError(ErrorCode):
    CONSENT_MISSING = "consent_missing", _("Record the customer's consent to face verification first.")
    PHOTOS_REQUIRED = "photos_required", _("Between 1 and 30 photos can be required.")
    ENROLMENT_IN_PROGRESS = (
        "enrolment_in_progress",
        _("An enrolment of this customer is being encoded; wait for it to finish."),
    )
    ENROLMENT_CLOSED = "enrolment_closed", _("This enrolment is %(status)s; start a new one to take photos.")
    PHOTOS_COMPLETE = "photos_complete", _("All photos are taken; submit the enrolment.")
    PHOTOS_MISSING = "photos_missing", _("%(taken)d of %(required)d photos taken; take the rest first.")
    NOT_IN_REVIEW = "not_in_review", _("Only an enrolment that needs review can be reviewed.")
    CHANGE_PENDING = (
        "change_pending",
        _("This enrolment waits for its change request to be approved or rejected."),
    )
    FOUR_EYES = "four_eyes", _("The person who captured the enrolment cannot review it.")
    ENGINE_VERSION_MISMATCH = (
        "engine_version_mismatch",
        _("This process runs engine %(running)s, not %(asked)s."),
    )
    # One branch shot refused (enrolment_capture._reject)
    PHOTO_MISSING = "photo_missing", _("Send one image in the `photo` field.")
    PHOTO_DUPLICATE = "photo_duplicate", _("This exact photo was already taken.")
    PHOTO_TOO_SIMILAR = "photo_too_similar", _("Almost the same as the previous shot: move your head slowly.")
    NO_FACE = "no_face", _("No face found. Face the camera in good light.")
    SEVERAL_FACES = "several_faces", _("Only the customer should be in the picture.")
    FACE_TOO_SMALL = "face_too_small", _("The face is too small: move closer.")
    FACE_BLURRED = "face_blurred", _("The photo is blurred: hold still.")
    IMAGE_EMPTY = "image_empty", _("The image is empty.")
    IMAGE_TOO_LARGE = "image_too_large", _("The photo file is too large.")
    IMAGE_NOT_AN_IMAGE = "image_not_an_image", _("The data is not a recognised image.")
    IMAGE_UNSUPPORTED_FORMAT = "image_unsupported_format", _("Only JPEG, PNG and WebP images are accepted.")
    IMAGE_CORRUPT = "image_corrupt", _("The image data is damaged or incomplete.")
    # A branch clip refused (enrolment_capture.enrolment_clip_add)
    CLIP_MISSING = "clip_missing", _("Send one video in the `clip` field.")
    CLIP_EMPTY = "clip_empty", _("The clip is empty.")
    CLIP_TOO_LARGE = "clip_too_large", _("The clip is too large (at most 20 MB).")
    CLIP_NOT_A_VIDEO = "clip_not_a_video", _("The data is not a recognised video clip.")
    CLIP_FRAMES_ALREADY_TAKEN = (
        "clip_frames_already_taken",
        _(
            "Every usable view in the clip was already taken: record the customer turning their head to new "
            "positions."
        ),
    )
    CLIP_NO_USABLE_FRAMES = (
        "clip_no_usable_frames",
        _("No usable view of one face in the clip: one person, close to the camera, turning slowly."),
    )


# A second wording of a code, for the raise site that needs other words (the code stays the same).
CONSENT_NEEDED_FOR_ENROLMENT = _("Face enrolment needs the customer's consent.")
