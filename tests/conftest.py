"""Every test gets its own locker home; CLI helpers call the real entry point."""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The long trials carry the `slow` marker, so that `scripts/test.sh -m "not slow"` is a quick inner
# loop; `scripts/test.sh` and .ci/run run everything. Chosen by measurement, not by guess: each took
# 3 s or more (setup included, every parameter together) in `pytest -n 2 --durations=0`; those added
# on 2026-12-05 took 4 s or more in `-m "not slow"` on a machine shared with other runs (load about 8
# on 2 cores). A whole file is listed when its tests share a costly module fixture. Keep this list sorted.
SLOW_FILES = frozenset({"test_hostile.py", "test_ocr_chat.py"})
SLOW_TESTS = frozenset({
    "test_chat_ingest.py::test_a_chats_wall_clock_times_are_in_an_assumed_zone",
    "test_chat_ingest.py::test_message_digest_is_the_documented_canonical_form",
    "test_chat_ingest.py::test_pack_prints_the_assumed_date_order_above_the_transcript",
    "test_chats.py::test_fuzz_chat_like_text",
    "test_chats.py::test_fuzz_random_bytes",
    "test_chats.py::test_fuzz_random_text",
    "test_cli.py::test_console_script_and_module_entry",
    "test_cli.py::test_what_the_locker_writes_is_private",
    "test_cli_habits.py::test_help_shows_metavars_people_understand",
    "test_cli_habits.py::test_home_before_or_after_the_command",
    "test_cli_habits.py::test_piped_output_is_not_folded_and_has_no_trailing_spaces",
    "test_concurrency.py::test_four_adders_an_exporter_and_a_searcher",
    "test_concurrency.py::test_two_processes_adding_at_once",
    "test_contract_deadlines.py::test_due_and_next_documents_match_their_schemas",
    "test_crash.py::test_killed_add_loses_nothing",
    "test_crash_export_search.py::test_a_derivation_killed_half_way_is_never_trusted_and_is_cleaned",
    "test_crash_export_search.py::test_export_killed_as_the_pack_reaches_its_name_leaves_it_recorded",
    "test_crash_export_search.py::test_killed_export_leaves_no_half_pack_and_no_stale_temps",
    "test_crash_export_search.py::test_killed_export_leaves_no_worker_running",
    "test_crash_export_search.py::test_killed_search_or_reindex_never_leaves_search_wrong",
    "test_credentials.py::test_files_without_credentials_do_not_load_c2pa",
    "test_custody.py::test_any_single_edit_is_found",
    "test_deadlines.py::test_the_packs_timeline_shows_deadlines_and_marks_the_past_ones",
    "test_derive.py::test_image_bad_input",
    "test_derive.py::test_long_screenshot_keeps_its_width",
    "test_derive.py::test_oriented_image_is_shown_upright",
    "test_derive.py::test_other_codecs_and_containers",
    "test_derive.py::test_rotated_video_comes_out_upright",
    "test_derive.py::test_seeks_instead_of_decoding_the_whole_stream",
    "test_derive.py::test_slice_plan_invariants",
    "test_derive.py::test_slice_plan_is_fast_on_a_very_long_screenshot",
    "test_derive.py::test_slices_cut_in_blank_rows",
    "test_derive.py::test_slices_overlap_where_no_row_is_blank",
    "test_documents.py::test_pack_prints_a_page_count_only_for_pages_it_read",
    "test_edit.py::test_each_edit_changed_behind_the_chains_back_is_found",
    "test_enospc.py::test_add_runs_out_of_space_mid_file",
    "test_enospc.py::test_database_runs_out_of_space_while_recording_a_chat",
    "test_enospc.py::test_export_cannot_write_the_pack",
    "test_enospc.py::test_new_on_a_full_disk_leaves_no_half_dispute",
    "test_enospc.py::test_new_with_no_inode_left_is_one_clear_line",
    "test_examples.py::test_demo_runs_end_to_end",
    "test_examples.py::test_sample_evidence_is_deterministic",
    "test_export.py::test_a_document_with_fonts_it_does_not_embed_is_said_so",
    "test_export.py::test_a_killed_export_leaves_no_pack_under_the_final_name",
    "test_export.py::test_attached_originals_come_out_byte_identical",
    "test_export.py::test_english_pack",
    "test_export.py::test_font_errors_say_how_to_install_one",
    "test_export.py::test_font_named_with_a_face_index",
    "test_export.py::test_include_a_withdrawn_exhibit_and_exclude_others",
    "test_export.py::test_letter_names_missing_fields",
    "test_export.py::test_max_size_is_respected_or_fails_clearly",
    "test_export.py::test_pack_reads_as_a_clerk_would_read_it",
    "test_export.py::test_pictures_at_about_200_dpi_never_upscaled_jpeg_passed_through",
    "test_export.py::test_profile_language_and_default_output",
    "test_export.py::test_the_json_document",
    "test_export_checks.py::test_a_deleted_object_refuses_the_export_or_is_stamped",
    "test_export_checks.py::test_a_file_appearing_while_the_pack_is_made_is_not_replaced",
    "test_export_checks.py::test_a_flipped_byte_refuses_the_export_and_names_the_exhibit",
    "test_export_checks.py::test_allow_damaged_stamps_the_exhibit_and_never_shows_the_old_rendition",
    "test_export_checks.py::test_an_existing_file_is_replaced_only_with_force",
    "test_export_checks.py::test_output_inside_the_home_is_refused",
    "test_export_checks.py::test_the_check_reads_every_packed_object",
    "test_export_checks.py::test_the_default_name_never_replaces_a_pack",
    "test_faults.py::test_disk_full_after_a_committed_group_reports_what_was_recorded",
    "test_faults.py::test_disk_full_with_nothing_recorded_is_one_clear_line",
    "test_fuzz_media.py::test_add_fuzzed_files_end_to_end",
    "test_fuzz_media.py::test_end_to_end_inputs_are_varied",
    "test_fuzz_media.py::test_mutated_exif_blocks",
    "test_fuzz_media.py::test_mutated_samples",
    "test_fuzz_media.py::test_random_bytes",
    "test_fuzz_media.py::test_regression_pdf_scan_of_many_object_headers_is_linear",
    "test_fuzz_media.py::test_regression_video_header_claiming_huge_frames",
    "test_fuzz_media.py::test_repetitive_structures",
    "test_home_only.py::test_no_command_writes_outside_the_home_with_ocr_on",
    "test_i18n.py::test_help_and_errors_in_chinese_under_a_chinese_locale",
    "test_i18n.py::test_lang_en_wins_over_the_locale_before_or_after_the_command",
    "test_i18n.py::test_the_profile_language_counts_and_lang_still_wins",
    "test_import.py::test_a_damaged_bundle_is_refused_unless_allowed",
    "test_import.py::test_a_killed_import_leaves_nothing_the_next_one_trips_on",
    "test_ingest.py::test_damaged_files_are_kept_with_warnings",
    "test_ingest.py::test_large_file_memory_stays_flat",
    "test_ingest.py::test_unreadable_file_is_refused",
    "test_kit.py::test_cards_fit_the_form_and_the_manifest_says_what_is_there",
    "test_kit.py::test_the_description_is_cut_at_a_sentence_boundary_and_kept_whole_beside",
    "test_kit.py::test_the_pack_appendix_lists_the_kit_with_its_card_hashes",
    "test_media.py::test_png_decompression_bomb",
    "test_media.py::test_zip_bomb_member_is_read_only_64k",
    "test_no_internal_errors.py::test_a_home_folder_that_does_not_exist_is_an_error",
    "test_no_internal_errors.py::test_a_read_only_home_is_read_and_never_written",
    "test_no_internal_errors.py::test_an_out_of_range_zone_offset_is_a_usage_error",
    "test_no_internal_errors.py::test_ctrl_c_during_add_reports_what_was_recorded",
    "test_no_internal_errors.py::test_ctrl_c_during_export_leaves_nothing_behind",
    "test_offline.py::test_main_flow_makes_no_network_attempt",
    "test_pack_polish.py::test_a_chinese_pack_has_no_english_sentence",
    "test_pack_polish.py::test_a_portrait_video_starts_its_frames_on_its_first_page",
    "test_pack_polish.py::test_a_turned_photo_has_one_size",
    "test_pack_polish.py::test_an_empty_pack_has_no_fingerprint",
    "test_pack_polish.py::test_an_english_pack_has_no_chinese",
    "test_pack_polish.py::test_emoji_print_by_name",
    "test_pack_polish.py::test_page_ranges_read_as_ranges",
    "test_pack_polish.py::test_the_cover_lists_many_exhibits_as_ranges",
    "test_pack_polish.py::test_the_signature_line_never_stands_alone",
    "test_read_truth.py::test_add_of_a_file_being_appended_to_stores_what_was_read",
    "test_read_truth.py::test_stage_notices_a_file_that_grows_while_it_is_copied",
    "test_rebuild.py::test_derived_files_are_durable_before_they_take_their_name",
    "test_rebuild.py::test_rebuild_makes_frames_renditions_and_slices",
    "test_remote.py::test_a_big_file_goes_in_parts_with_a_composite_checksum",
    "test_remote.py::test_a_change_during_the_upload_is_archived_too",
    "test_remote.py::test_a_killed_archive_resumes",
    "test_remote.py::test_a_server_that_stops_mid_run_is_one_line_and_nothing_is_recorded",
    "test_remote.py::test_archive_then_a_second_run_uploads_nothing",
    "test_remote.py::test_restore_into_an_empty_home_verifies_and_continues_the_log",
    "test_remote.py::test_verify_remote_names_missing_differing_and_unprotected_keys",
    "test_search.py::test_a_search_interrupted_while_copying_leaves_the_catalog_right",
    "test_search.py::test_an_index_from_another_tokenizer_version_is_rebuilt_by_reindex",
    "test_search.py::test_chinese_substrings_are_found_exactly",
    "test_search.py::test_every_kind_of_change_is_seen_by_the_next_search",
    "test_search.py::test_fallback_without_a_catalog_gives_the_same_answers",
    "test_search.py::test_filters_combine_with_the_query",
    "test_search.py::test_hits_in_chats_events_notes_pdf_text_and_fields",
    "test_search.py::test_hostile_queries_never_crash",
    "test_search.py::test_killed_processes_never_leave_search_wrong",
    "test_search.py::test_mixed_chinese_english_and_width_and_case",
    "test_search.py::test_order_numbers_full_and_partial",
    "test_search.py::test_per_dispute_index_and_catalog_agree",
    "test_search.py::test_random_unicode_queries_never_raise",
    "test_search.py::test_reindex_and_a_lost_or_damaged_catalog",
    "test_search.py::test_two_char_one_char_and_long_chinese_find_exactly_their_rows",
    "test_search.py::test_two_processes_writing_while_a_third_searches",
    "test_tamper.py::test_a_database_replaced_by_an_older_copy_is_found",
    "test_tamper.py::test_each_kind_of_edit_is_found_at_least_once",
    "test_tamper.py::test_every_single_edit_is_found_and_named",
    "test_tamper.py::test_the_untouched_dispute_verifies_clean",
    "test_times.py::test_a_stored_year_1_time_breaks_neither_show_nor_export",
    "test_times.py::test_pack_says_zone_assumed",
    "test_upgrade.py::test_fixture_is_what_locker_writes",
    "test_upgrade.py::test_older_chat_is_reread_and_verifies",
    "test_upgrade.py::test_older_dispute_exports",
    "test_upgrade.py::test_older_dispute_is_found_by_search",
    "test_upgrade.py::test_older_dispute_reads_as_it_was_left",
    "test_upgrade.py::test_older_dispute_takes_new_evidence",
    "test_upgrade.py::test_tampering_a_migrated_dispute_is_caught",
    "test_verify.py::test_missing_and_extra_objects_are_found",
    "test_web.py::test_a_phone_pairs_once_sends_to_one_dispute_and_stops_when_ended",
    "test_web.py::test_every_change_needs_the_csrf_token",
    "test_web.py::test_upload_is_the_same_exhibit_as_locker_add_would_make",
})


# The longest trials run first. pytest-xdist's worksteal gives each worker a contiguous share of the
# collection and an idle worker takes the tail of the longest queue, so one long test left near the end
# of a queue sets the wall time on its own while the other worker waits. Measured with
# `pytest -n 2 --durations=80`: a test listed runs before its file; a file listed keeps its tests
# together (a module fixture is then built once per worker). Heaviest first.
RUN_FIRST = (
    "test_examples.py::test_demo_runs_end_to_end",
    "test_home_only.py::test_no_command_writes_outside_the_home_with_ocr_on",
    "test_crash_export_search.py::test_killed_export_leaves_no_half_pack_and_no_stale_temps",
    "test_types.py::test_mypy_passes",
    "test_import.py::test_a_killed_import_leaves_nothing_the_next_one_trips_on",
    "test_hostile.py",
    "test_ocr.py",
    "test_ocr_chat.py",
    "test_web_browser.py",
    "test_remote.py",  # a real S3 server and three trials of 7-12 s: late in the order, they ran last
    "test_search.py::test_killed_processes_never_leave_search_wrong",
    "test_no_internal_errors.py::test_a_read_only_home_is_read_and_never_written",
    "test_crash_export_search.py",
    "test_concurrency.py",
    "test_enospc.py",
    "test_tamper.py",
)


def _first(name: str) -> int:
    for n, entry in enumerate(RUN_FIRST):
        if name == entry or name.split("::")[0] == entry:
            return n
    return len(RUN_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = item.nodeid.removeprefix("tests/").split("[")[0]
        if name in SLOW_TESTS or name.split("::")[0] in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: _first(item.nodeid.removeprefix("tests/").split("[")[0]))  # stable: files stay in order


# The workers' garbage collector. A worker ends up holding 430,000-900,000 objects (every test module,
# reportlab, PyAV, onnxruntime, caches), and each full collection walks them all: 19 CPU-s of the suite's
# ~400 went to collections, 15 of them to the 23-42 full ones of each worker (measured with gc.callbacks,
# 2026-12-06). Objects that have lived through a full collection are frozen (gc.freeze: left out of
# later collections), after the collection of the tests and after each test that saw a full collection:
# 8 CPU-s in all instead of 19. Reference counting still frees everything; what a freeze keeps is only a
# cycle that was alive at that moment and becomes garbage later.
_FULL_COLLECTIONS = {"seen": 0, "frozen": 0}


def _count_full_collections(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        _FULL_COLLECTIONS["seen"] += 1


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()
    if _count_full_collections not in gc.callbacks:
        gc.callbacks.append(_count_full_collections)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if _FULL_COLLECTIONS["seen"] != _FULL_COLLECTIONS["frozen"]:
        _FULL_COLLECTIONS["frozen"] = _FULL_COLLECTIONS["seen"]
        gc.freeze()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "home"
    _test_environment(monkeypatch, root)
    return root


def _test_environment(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    monkeypatch.setenv("LOCKER_HOME", str(root))
    monkeypatch.setenv("TZ", "UTC")
    # The tests read English: a developer's zh_CN locale must not change what locker says to them
    # (tests/test_i18n.py sets the Chinese locale where it means to).
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    # export and rebuild would read every picture by OCR first (seconds each): only tests/test_ocr.py wants it.
    monkeypatch.setenv("LOCKER_OCR", "off")


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def json(self):  # noqa: ANN201
        return json.loads(self.out)


@contextmanager
def shared_home(root: Path) -> Iterator[Callable[..., Ran]]:
    """For a fixture that several tests share (module scope), where ``home`` and ``cli`` (one test each)
    cannot serve: the environment ``home`` gives a test, with ``root`` as the locker home, and a runner
    like ``cli``'s. Build there once what the tests only read, instead of once per test."""
    from locker.cli import main

    def run(*args: object) -> Ran:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in args])
        return Ran(code, out.getvalue(), err.getvalue())

    with pytest.MonkeyPatch.context() as monkeypatch:
        _test_environment(monkeypatch, root)
        yield run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # noqa: ANN201
    """Run ``locker ARGS…`` in this process through ``locker.cli.main``."""
    from locker.cli import main

    def run(*args: object) -> Ran:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def run_locker(*args: object, home: Path, check: bool = False, **kw) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
    """Run the installed ``python -m locker`` in a child process."""
    env = {**os.environ, "LOCKER_HOME": str(home), "TZ": "UTC"}
    proc = subprocess.run([sys.executable, "-m", "locker", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=REPO, **kw)
    if check and proc.returncode:
        raise AssertionError(f"locker {args} failed: {proc.stderr}")
    return proc


@pytest.fixture
def dispute(cli) -> str:  # noqa: ANN001
    return new_dispute(cli)


def new_dispute(cli) -> str:  # noqa: ANN001
    """The ``dispute`` fixture's dispute (slug "earbuds"), made with a ``cli``-like runner."""
    ran = cli("new", "小红书无线耳机退款", "--platform", "xiaohongshu", "--merchant", "优品数码旗舰店",
              "--order-id", "250501123456789", "--amount", "199.00", "--purchased-on", "2025-05-01",
              "--slug", "earbuds", "--json")
    assert ran.code == 0, ran.err
    return ran.json["slug"]
