"""The CLI shell: version, help, and the shared error path (exit 2, one line, no traceback)."""

import subprocess
import sys

import vitocc


def run(*args):
    return subprocess.run([sys.executable, "-m", "vitocc", *args], capture_output=True, text=True, timeout=120)


def test_version():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"vitocc {vitocc.__version__}"


def test_help_lists_commands_without_heavy_imports():
    code = (
        "import sys\nfrom vitocc.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('torch', 'timm', 'trimesh') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "config" in out.stdout
    assert "HEAVY []" in out.stdout


def test_every_command_runs_with_passive_openmp_waiting():
    """Set once by the app, before any command imports torch (spinning threads slow a busy CPU)."""
    import os

    code = ("import os\nfrom vitocc.cli import main\ntry:\n    main(['config', 'default'])\nexcept SystemExit:\n    pass\n"
            "print('POLICY', os.environ.get('OMP_WAIT_POLICY'))")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert "POLICY PASSIVE" in out.stdout, out.stderr


def test_user_error_is_one_red_line_with_exit_2():
    out = run("config", "--set", "model.hiden_size=3")
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "unknown config key 'model.hiden_size'" in lines[0] and "model.hidden_size" in lines[0]
    assert "Traceback" not in out.stderr


def test_bad_option_is_one_line_with_exit_2():
    out = run("config", "--no-such-option")
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--no-such-option" in lines[0]


def test_config_prints_resolved_yaml():
    out = run("config", "synthetic-cpu", "--set", "training.seed=3")
    assert out.returncode == 0, out.stderr
    assert "seed: 3" in out.stdout and "vit_tiny" in out.stdout
    listed = run("config", "--list")
    assert "onet-resnet18" in listed.stdout.split()


COMMANDS = ["download", "synth", "build-dataset", "train", "reconstruct", "mise", "evaluate", "compare", "serve",
            "config"]


def _help(name: str) -> str:
    out = subprocess.run([sys.executable, "-m", "vitocc", *([name] if name else []), "--help"],
                         capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_help_placeholders_read_like_one_tool():
    """Flags show no placeholder; every value has an upper-case one (no typer `<bool>`/`<int range>`); arguments
    read NAME or [NAME] in the usage line (not typer's {NAME}); every default reads [default: ...]."""
    import re

    for name in ["", *COMMANDS]:
        text = _help(name)
        assert "--help" in text, name
        assert "<bool>" not in text and "<int" not in text and "<path>" not in text, name
        assert "<list[" not in text and "<str>" not in text, name
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "{" not in usage, usage
        assert "[default: (" not in text and "Default:" not in text and "[default: no-" not in text, name
    train = _help("train")
    assert re.search(r"--out +-o +RUN_DIR +Run directory\. +\[default: runs/<config name>\]", train), train
    assert re.search(r"--config +-c +PRESET\|FILE ", train), train


def test_gpu_reads_the_same_in_every_command_that_runs_a_model():
    import re

    lines = {name: " ".join(re.search(r"--gpu +K.*?the CPU\]", " ".join(_help(name).replace("│", " ").split())).group().split())
             for name in ["train", "reconstruct", "mise", "evaluate", "serve"]}
    assert len(set(lines.values())) == 1 and "-1 for the CPU" in lines["train"], lines


def test_a_finished_reconstruct_ends_without_the_interpreters_teardown(tmp_path):
    """The main job skips Python's teardown (0.35 s with torch loaded) once it succeeded: its line is printed,
    its mesh and preview are complete; a failed command and a call of main() from Python end as usual."""
    from pathlib import Path

    from PIL import Image

    from vitocc.mesh_io import load_mesh

    chair = Path(__file__).parents[2] / "examples" / "chair.png"
    code = "import atexit; atexit.register(lambda: print('TEARDOWN')); from vitocc.cli import main; main()"
    fast = ["--resolution", "16", "--upsampling", "1"]
    out = subprocess.run([sys.executable, "-c", code, "reconstruct", str(chair), "-o", str(tmp_path / "chair.obj"),
                          "--preview", str(tmp_path / "preview.png"), *fast], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "chair.obj" in out.stdout and "watertight yes" in out.stdout and "preview:" in out.stdout
    assert "TEARDOWN" not in out.stdout
    assert len(load_mesh(tmp_path / "chair.obj")[1]) > 100
    assert Image.open(tmp_path / "preview.png").size[0] > 0
    failed = subprocess.run([sys.executable, "-c", code, "reconstruct", str(tmp_path / "missing.png"), "-o",
                             str(tmp_path / "m.obj")], capture_output=True, text=True, timeout=300)
    assert failed.returncode == 2 and "TEARDOWN" in failed.stdout and "no such file" in failed.stderr
    call = ["reconstruct", str(chair), "-o", str(tmp_path / "again.obj"), *fast]
    in_python = f"from vitocc.cli import main\ntry:\n    main({call!r})\nexcept SystemExit as e:\n    print('EXIT', e.code)\n"
    again = subprocess.run([sys.executable, "-c", in_python], capture_output=True, text=True, timeout=300)
    assert "EXIT 0" in again.stdout, again.stderr
