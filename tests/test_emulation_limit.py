"""A board-sized link that overflows only because QEMU's machine models less memory than the
board has (the Alif E7's 5.5 MB MRAM on an MPS3 AN547 with 512 KB there) is not evidence that
the model does not fit the board: check says what the table says and that code and stack
could not be measured, and agrees with verify (tests/test_verdicts.py's matrix found this)."""
from __future__ import annotations

import json

from cli_util import fitml
from conftest import shared_model
from toolchain.report.measure import emulation_limit
from toolchain.targets import load_target

AD = shared_model("mlperf_tiny/ad/ad01_int8.tflite")
ALIF = "alif-e7-devkit-he"


def test_an_overflow_within_what_the_machine_lacks_is_qemus_limit():
    why = emulation_limit("link failed: region 'FLASH' overflowed by 43440 bytes",
                          load_target(ALIF))
    assert why == ("QEMU's mps3-an547 models mram 524,288 B of its 5,767,168 B (the board "
                   "holds the model there)"), why


def test_an_overflow_beyond_the_board_or_on_an_uncapped_region_is_the_boards():
    alif = load_target(ALIF)
    assert emulation_limit("link failed: region 'FLASH' overflowed by 6000000 bytes", alif) \
        is None
    assert emulation_limit("link failed: region 'RAM' overflowed by 100 bytes", alif) is None
    assert emulation_limit("link failed: region 'FLASH' overflowed by 100 bytes",
                           load_target("nucleo-f411re")) is None


def test_check_and_verify_agree_on_a_board_larger_than_its_emulation():
    proc = fitml("check", AD, "--target", ALIF, "--format", "json")
    rep = json.loads(proc.stdout)
    assert proc.returncode == 0 and rep["fits"], rep["verdict"]
    assert rep["measured"]["link"] is None and "QEMU's mps3-an547 models mram" in \
        rep["verdict"], rep["verdict"]
    run = fitml("verify", AD, "--target", ALIF, "--random", "1")
    assert run.returncode == 0, run.stdout + run.stderr
