"""One error policy: the answer to an exception is read from its class's attributes (errors.py), nowhere else."""

import logging

from s3media_wsgi import errors
from s3media_wsgi.answers import answer_for


def test_every_error_class_says_how_it_is_answered():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert isinstance(cls.temporary, bool) and isinstance(cls.shown, bool), name
        assert isinstance(cls.log_traceback, bool), name
        # A temporary failure is a 503 (Retry-After is meaningless on anything else), and back.
        assert cls.temporary == (cls.status_code == 503), name


def test_the_answer_follows_the_attributes_not_a_list_of_classes():
    class Flaky(errors.MediaError):
        status_code = 503
        public_message = "Flaky"
        temporary = True

    class Told(errors.MediaError):
        status_code = 400
        public_message = "Refused"
        shown = True

    flaky = answer_for(Flaky("node 3 of bucket x"), 9)
    assert (flaky.status, flaky.shown, flaky.retry_after, flaky.level) == (503, "Flaky", 9, logging.WARNING)
    told = answer_for(Told("That file is empty."), 9)
    assert (told.status, told.shown, told.retry_after, told.level) == (400, "That file is empty.", None, logging.DEBUG)
    assert answer_for(Told(""), 9).shown == "Refused"  # no message of its own: the public one


def test_upload_errors_are_media_errors_with_their_own_status_and_shown_message():
    refusal = errors.UploadError(411, "A Content-Length is needed.")
    assert isinstance(refusal, errors.MediaError)
    answer = answer_for(refusal, 5)
    assert (answer.status, answer.public, answer.shown) == (
        411,
        "A Content-Length is needed.",
        "A Content-Length is needed.",
    )
    from s3media_wsgi import upload_api

    assert upload_api.UploadError is errors.UploadError


def test_storage_misconfiguration_is_logged_without_traceback_and_a_bug_with_one():
    assert answer_for(errors.StorageError("bucket x: access denied"), 5).traceback is False
    assert answer_for(errors.MediaError("unexpected"), 5).traceback is True
    assert answer_for(RuntimeError("bug"), 5).traceback is True
    assert answer_for(errors.StorageBusy("full"), 5).retry_after == 1
