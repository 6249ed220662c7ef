"""The corpus folder: the articles and comment threads the author keeps as plain files.

``read`` reads and checks a folder (every problem as ``file:line: what is wrong``),
through the one YAML loader that keeps line numbers (``yamlfile``). Everything that
writes to the folder goes through ``write`` (new entries appended, each file written
aside, re-read and renamed, a failed change rolled back) under ``lock`` (one writer at
a time): ``edit`` rewrites single keys of an entry found by parsing, ``redact`` removes a
comment for good and records it, and ``identity`` says when two comments from
different sources are the same. The format is described in the README and DESIGN.md.
"""
