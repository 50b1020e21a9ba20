

@pytest.mark.e2e
def test_the_grammars_load_at_the_first_parse_not_at_start_up() -> None:
    import subprocess
    import sys

    code = "import sys, app, bot.slack, skills.amplitude.instrument.points; print('tree_sitter' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
