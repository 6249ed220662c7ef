"""A real WordPress site for the end-to-end tests: Debian's wordpress on MariaDB, served by PHP.

MariaDB gets its own data folder and socket under a temporary folder (no TCP port) and
is started and stopped by PID. The site is installed with WordPress's own
``wp_install()`` from PHP's command line; Debian's ``wp-config.php`` reads
``/etc/wordpress/config-<name>.php``, named here by ``WORDPRESS_CONFIG`` so that the
test's file cannot be mistaken for a real site's. ``php -S 127.0.0.1:<port>`` serves it
through a small router script (Debian keeps WordPress in ``/usr/share/wordpress``, and
the built-in server knows nothing of WordPress's pretty links).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

WORDPRESS = Path("/usr/share/wordpress")
CONFIG_DIR = Path("/etc/wordpress")
MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
MARIADB = "/usr/bin/mariadb"
PACKAGES = "wordpress mariadb-server php-cli php-mysql php-mbstring php-xml"


def missing() -> list[str]:
    """Return what this machine lacks to run a WordPress site (empty when nothing)."""
    lacking = [
        str(p)
        for p in (
            WORDPRESS / "wp-load.php",
            Path(MARIADBD),
            Path(INSTALL_DB),
            Path(MARIADB),
            CONFIG_DIR,
        )
        if not p.exists()
    ]
    if CONFIG_DIR.exists() and not os.access(CONFIG_DIR, os.W_OK):
        lacking.append(f"write access to {CONFIG_DIR} (Debian's wp-config.php reads it)")
    php = shutil.which("php")
    if php is None:
        return [*lacking, "php"]
    modules = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=60).stdout
    lacking += [f"php {m}" for m in ("mysqli", "mbstring", "xml") if m not in modules.split()]
    return lacking


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen | None, wait: float = 20.0) -> None:
    """Stop a process this harness started, by its PID: TERM, then KILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=wait)


ROUTER = """<?php
// Debian's wp-config.php loads /etc/wordpress/config-<WORDPRESS_CONFIG>.php
$_SERVER['WORDPRESS_CONFIG'] = '{name}';
$root = '{root}';
$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
if ($path !== '/' && is_file($root . $path)) {{
    if (substr($path, -4) !== '.php') {{
        return false;  // a file as it is
    }}
    chdir(dirname($root . $path));
    require $root . $path;
    return true;
}}
// everything else (pretty links, /wp-json/...) goes to WordPress's front controller
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $root . '/index.php';
chdir($root);
require $root . '/index.php';
"""

CONFIG = """<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{socket}');
define('WP_HOME', '{url}');
define('WP_SITEURL', '{url}');
define('WP_CONTENT_DIR', '{content}');
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
$table_prefix = 'wp_';
"""

PRELUDE = """<?php
$_SERVER['WORDPRESS_CONFIG'] = '{name}';
$_SERVER['HTTP_HOST'] = '127.0.0.1:{port}';
$_SERVER['REQUEST_URI'] = '/';
// no mail from the command line: a new site and new comments would try to send some
function wp_new_blog_notification() {{}}
function wp_mail() {{ return true; }}
"""


class WordPressSite:
    """A WordPress site under ``folder``: MariaDB, the configuration, the PHP server."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = f"kb-e2e-{os.getpid()}-{self.folder.name}"[:60].replace("_", "-")
        self.name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in self.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket = self.folder / "mysqld.sock"
        self.config = CONFIG_DIR / f"config-{self.name}.php"
        self.db: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.timings: dict[str, float] = {}

    # -- start and stop ----------------------------------------------------------------
    def start(self) -> None:
        started = time.monotonic()
        self._start_db()
        self.timings["mariadb"] = time.monotonic() - started
        content = self.folder / "wp-content"
        for sub in ("plugins", "themes", "uploads"):
            (content / sub).mkdir(parents=True, exist_ok=True)
        self.config.write_text(CONFIG.format(socket=self.socket, url=self.url, content=content))
        mark = time.monotonic()
        self.php("""
            define('WP_INSTALLING', true);
            require '{root}/wp-load.php';
            require_once ABSPATH . 'wp-admin/includes/upgrade.php';
            $r = wp_install('Harbour Notes', 'marin', 'marin@harbour.example', true, '',
                            'a long password, never used', 'en_US');
            echo json_encode(['user' => $r['user_id']]);
        """)
        self.timings["install"] = time.monotonic() - mark
        router = self.folder / "router.php"
        router.write_text(ROUTER.format(name=self.name, root=WORDPRESS))
        with (self.folder / "php.log").open("wb") as log:
            self.web = subprocess.Popen(
                ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(WORDPRESS), str(router)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
            )
        self._wait(lambda: self._answers(), "the PHP server", self.folder / "php.log")
        self.timings["start"] = time.monotonic() - started

    def _start_db(self) -> None:
        data = self.folder / "mysql"
        log = self.folder / "mariadb-install.log"
        with log.open("wb") as out:
            subprocess.run(
                [
                    INSTALL_DB,
                    "--no-defaults",
                    f"--datadir={data}",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=180,
            )
        errors = self.folder / "mariadb.err"
        self.db = subprocess.Popen(
            [
                MARIADBD,
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.socket}",
                "--skip-networking",
                "--user=root",
                f"--pid-file={self.folder / 'mysqld.pid'}",
                f"--log-error={errors}",
                "--innodb-buffer-pool-size=16M",
                "--skip-log-bin",
                "--innodb-log-file-size=8M",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait(lambda: self.socket.exists() and self._sql("SELECT 1"), "MariaDB", errors)
        self._sql("CREATE DATABASE wordpress CHARACTER SET utf8mb4")

    def _sql(self, statement: str) -> bool:
        r = subprocess.run(
            [MARIADB, "--no-defaults", "-S", str(self.socket), "-u", "root", "-e", statement],
            capture_output=True,
            timeout=60,
        )
        return r.returncode == 0

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/wp-json/", timeout=5) as answer:
                return answer.status == 200
        except OSError:
            return False

    def _wait(self, ready, what: str, log: Path, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            for proc in (self.db, self.web):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{what} stopped: {log.read_text(errors='replace')[-2000:]}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(
            f"{what} did not start in {limit:g} s: "
            f"{log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
        )

    def stop(self) -> None:
        _stop(self.web)
        _stop(self.db, wait=60)
        self.config.unlink(missing_ok=True)

    # -- WordPress's own functions ---------------------------------------------------------
    def php(self, code: str, *args: str):
        """Run PHP code with WordPress loaded (unless the code loads it); return its JSON."""
        script = self.folder / "snippet.php"
        body = code.replace("{root}", str(WORDPRESS))
        if "wp-load.php" not in body:
            body = f"require '{WORDPRESS}/wp-load.php';\n" + body
        script.write_text(PRELUDE.format(name=self.name, port=self.port) + body)
        r = subprocess.run(
            ["php", str(script), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.folder,
        )
        if r.returncode != 0:
            raise RuntimeError(
                f"php failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}"
            )
        out = r.stdout.strip()
        return json.loads(out.splitlines()[-1]) if out else None

    def export(self, path: Path) -> Path:
        """Write the site's export with WordPress's own exporter (Tools > Export, all content)."""
        self.php(
            """
            require_once ABSPATH . 'wp-admin/includes/export.php';
            ob_start();
            export_wp(['content' => 'all']);
            file_put_contents($argv[1], ob_get_clean());
            echo json_encode(['ok' => true]);
        """,
            str(path),
        )
        return path
