"""Citizen rights: the working-day calendar, objections (异议), repairs (信用修复), the message centre.

Interfaces other modules build on (stable; keep these signatures):

- ``app.rights.calendar.add_working_days(start: date, n: int) -> Deadline`` — the n-th working day after
  ``start`` (``Deadline.date``, ``Deadline.provisional``: a day counted lies in a year whose holidays are not in
  the ``holiday`` table); ``working_days_between(d1, d2) -> int`` (working days after d1 up to and including d2).
  Both read the ``holiday`` / ``calendar_year`` tables only.
- ``app.rights.messages.post_message(citizen_id, kind, title, body, *, link=None, related_ref=None)`` — writes a
  message-centre row in the caller's transaction (the caller commits) and queues the WeChat subscription echo when
  the citizen subscribed to the kind's template (``messages.template_for``: kinds starting with "objection" /
  "repair" go to ``case_result``, "record_notice" to ``record_notice``, anything else to ``reminder``).
- Migration ``0006`` (migrations/versions/0006_rights_calendar_objections_repairs_messages.py) creates this
  package's tables; ``0007`` (commitments) chains onto it.
- On repair approval ``app.rights.repairs`` calls ``start_repair_commitment(citizen_id=..., record=...,
  text_version=...)`` from ``app.rights.commitments`` when that function exists; the single call site is
  ``repairs._start_repair_commitment``. It runs inside the approval's transaction (the approval commits after it).
- Records change status only through ``app.records.service.set_process_status`` / ``correct_record`` (conditional
  UPDATEs, audited); the citizen is then rescored through ``app.scoring``.
- 三书同达: ``app.signals.records_landed`` is sent by ``app.records.service.ingest`` inside its transaction;
  ``app.rights.notices`` answers with one message per new adverse record.

Modules: calendar (working days), objections, repairs, cases (shared: timeline, deadlines, JSON shape), evidence
(files under EVIDENCE_DIR), messages (message centre + WeChat echo outbox), notices (三书同达), deadlines (the
scheduler's watch and staff alerts), stats (the seed's figures), demo (the demo city's cases), api (department and
staff endpoints; the citizen's are in miniprogram_api/rights_api.py), cli (``flask calendar``, ``flask rights``).
"""
