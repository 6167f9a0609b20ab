"""Static files: hashed names from the manifest, each looked up once."""

import json

from services.staticfiles import StaticFilesStorage


def test_a_static_url_comes_from_the_manifest_and_is_remembered(tmp_path, settings):
    settings.DEBUG = False  # hashed names are used only without DEBUG
    manifest = {"version": "1.1", "hash": "x", "paths": {"css/site.css": "css/site.0123abcd.css"}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    storage = StaticFilesStorage(location=tmp_path, base_url="/static/")

    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    storage.hashed_files["css/site.css"] = "css/site.changed.css"
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
