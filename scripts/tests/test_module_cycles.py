"""Tests of scripts/module_cycles.py on tiny crate trees: `python3 -m unittest discover scripts/tests`."""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_cycles.py")


def tree(files):
    """A temporary folder holding `files` ({relative path: text}); returns its path."""
    root = tempfile.mkdtemp(prefix="module-cycles-")
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
    return root


def run(root, *crate_roots):
    result = subprocess.run(
        [sys.executable, SCRIPT, *crate_roots], cwd=root, capture_output=True, text=True
    )
    return result.returncode, result.stdout + result.stderr


class ModuleCycles(unittest.TestCase):
    def test_a_use_cycle_fails_naming_files_and_lines(self):
        root = tree({
            "src/main.rs": "mod a;\nmod b;\nfn main() {}\n",
            "src/a.rs": "use crate::b::Thing;\npub struct Other;\n",
            "src/b.rs": "pub struct Thing;\n\nfn f() -> super::a::Other { todo!() }\n",
        })
        status, out = run(root, "src/main.rs")
        self.assertEqual(status, 1, out)
        self.assertIn("error: module cycle: crate::a → crate::b → crate::a", out)
        self.assertIn("crate::a → crate::b: src/a.rs:1", out)
        self.assertIn("crate::b → crate::a: src/b.rs:3", out)

    def test_one_way_imports_pass(self):
        root = tree({
            "src/lib.rs": "pub mod a;\npub mod b;\npub use a::Thing;\n",
            # Test modules' `use super::*`, paths in comments and strings, and braces inside
            # raw strings and char literals are no edges and do not confuse the nesting.
            "src/a.rs": """\
                // crate::b::x in a comment
                /* crate::b /* nested */ crate::b */
                pub struct Thing;
                const STYLE: &str = r#"a{b:"}"}"#;
                const OPEN: char = '{';
                const TEXT: &str = "crate::b::not_an_attribute with words";
                #[cfg(test)]
                mod tests {
                    use super::*;
                    fn f(_: Thing) {}
                }
                """,
            "src/b.rs": "use crate::a::Thing;\nfn g<'a>(_: &'a Thing) {}\n",
        })
        status, out = run(root, "src/lib.rs")
        self.assertEqual(status, 0, out)
        self.assertIn("no cycle", out)

    def test_a_parent_and_child_importing_each_other_fail(self):
        root = tree({
            "src/lib.rs": "mod html;\n",
            "src/html/mod.rs": "mod page;\npub use page::render;\npub struct Card;\n",
            "src/html/page.rs": "use super::Card;\npub fn render(_: &Card) {}\n",
        })
        status, out = run(root, "src/lib.rs")
        self.assertEqual(status, 1, out)
        self.assertIn("crate::html → crate::html::page: src/html/mod.rs:2", out)
        self.assertIn("crate::html::page → crate::html: src/html/page.rs:1", out)

    def test_serde_path_strings_and_grouped_uses_count(self):
        root = tree({
            "src/main.rs": "mod x;\nmod y;\nfn main() {}\n",
            "src/x.rs": """\
                #[derive(Serialize)]
                struct S {
                    #[serde(serialize_with = "crate::y::text")]
                    at: u32,
                }
                pub fn f() {}
                """,
            "src/y.rs": "use crate::{\n    x::{self, f as g},\n};\npub fn text() {}\n",
        })
        status, out = run(root, "src/main.rs")
        self.assertEqual(status, 1, out)
        self.assertIn("crate::x → crate::y: src/x.rs:3", out)
        self.assertIn("crate::y → crate::x: src/y.rs:1", out)

    def test_nested_modules_resolve_through_files_and_inline_modules(self):
        root = tree({
            "src/lib.rs": "pub mod outer;\n",
            "src/outer.rs": "pub mod inner;\nmod wrap {\n    pub mod deep;\n}\n",
            "src/outer/inner.rs": "use super::wrap::deep::D;\n",
            "src/outer/wrap/deep.rs": "pub struct D;\nfn f() { let _ = super::super::inner::X; }\n",
        })
        status, out = run(root, "src/lib.rs")
        self.assertEqual(status, 1, out)
        self.assertIn("crate::outer::inner → crate::outer::wrap::deep", out)

    def test_long_files_warn_then_fail_but_tests_are_exempt(self):
        body = "fn f() {}\n"
        root = tree({
            "src/lib.rs": "mod warn;\nmod fail;\n#[cfg(test)]\nmod tests;\n",
            "src/warn.rs": body * 850,
            "src/fail.rs": body * 1001,
            "src/tests.rs": body * 3000,
        })
        status, out = run(root, "src/lib.rs")
        self.assertEqual(status, 1, out)
        self.assertIn("src/warn.rs: warning: 850 lines", out)
        self.assertIn("src/fail.rs: error: 1001 lines", out)
        self.assertNotIn("tests.rs", out)


if __name__ == "__main__":
    unittest.main()
