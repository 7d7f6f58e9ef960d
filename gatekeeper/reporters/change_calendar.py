"""The change calendar for people: a text table (columns by display width), a self-contained HTML month
view (Korean first), and an iCalendar file (RFC 5545, via `icalendar`) to subscribe to in calendar apps."""

from __future__ import annotations

import calendar as stdcal
import html
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.checks.calendar import ChangeCalendar
from gatekeeper.domain.changecal import describe_reasons
from gatekeeper.messages import tr
from gatekeeper.reporters.columns import pad, width
from gatekeeper.reporters.words import word

_TYPE_KO = {"normal": "일반", "standard": "단순", "emergency": "긴급"}
_WEEKDAYS = (
    ("월", "Mon"),
    ("화", "Tue"),
    ("수", "Wed"),
    ("목", "Thu"),
    ("금", "Fri"),
    ("토", "Sat"),
    ("일", "Sun"),
)


def _t(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def _hm(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _colliding(cal: ChangeCalendar) -> set[str]:
    return {i for c in cal.collisions for i in (c.first.rfc_id, c.second.rfc_id)}


def render_text(cal: ChangeCalendar, lang: str) -> str:
    zone = ZoneInfo(cal.timezone)
    out = [
        tr(lang, "Change calendar")
        + f" {_hm(cal.start, zone)} – {_hm(cal.end, zone)} {cal.timezone}; "
        + tr(lang, "systems")
        + ": "
        + ", ".join(cal.systems)
    ]
    header = [
        tr(lang, "start"),
        tr(lang, "end"),
        tr(lang, "RFC"),
        tr(lang, "type"),
        tr(lang, "systems"),
        tr(lang, "title"),
        tr(lang, "notes"),
    ]
    colliding = _colliding(cal)
    rows = []
    for s in cal.slots:
        notes = []
        if s.rfc_id in colliding:
            notes.append(tr(lang, "COLLISION"))
        if s.rfc_id in cal.in_business_hours:
            notes.append(tr(lang, "business hours"))
        notes.extend(tr(lang, "freeze ") + name for name in cal.in_freeze.get(s.rfc_id, ()))
        kind = _TYPE_KO.get(s.change_type, s.change_type) if lang == "ko" else s.change_type
        rows.append(
            [
                _hm(s.start, zone),
                _hm(s.end, zone),
                s.rfc_id,
                kind,
                ", ".join(s.systems),
                s.title,
                "; ".join(notes),
            ]
        )
    if rows:
        widths = [max(width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            out.append("  ".join(pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
    else:
        out.append(tr(lang, "no planned change in this period"))
    closed = [d for d in cal.days if not d.info.business and d.info.reason_en not in ("Saturday", "Sunday")]
    if closed:
        out.append(tr(lang, "Holidays:"))
        out.extend(
            f"  {d.info.day.isoformat()}  {d.info.reason_ko if lang == 'ko' else d.info.reason_en}"
            for d in closed
        )
    if cal.freezes:
        out.append(tr(lang, "Freezes:"))
        out.extend(f"  {_hm(f.start, zone)} – {_hm(f.end, zone)}  {f.name}" for f in cal.freezes)
    if cal.deployments:
        out.append(tr(lang, "Recorded deployments:"))
        for d in cal.deployments:
            until = _hm(d.end, zone) if d.end else tr(lang, "in progress")
            rfcs = ", ".join(d.rfcs)
            out.append(
                f"  {_hm(d.start, zone)} – {until}  {d.system}  {rfcs}  {word(d.result, lang)}".rstrip()
            )
    if cal.unscheduled:
        out.append(tr(lang, "Not placed (no date):"))
        out.extend(
            f"  {u.rfc_id}  {u.title}  ({u.reason_ko if lang == 'ko' else u.reason_en})"
            for u in cal.unscheduled
        )
    if cal.findings:
        out.append(tr(lang, "Collisions:"))
        out.extend(f"  [{f.severity}] {f.rule}: {f.message}" for f in cal.findings)
    out.append(
        tr(lang, "Business hours")
        + f" {cal.business_start}–{cal.business_end} "
        + tr(lang, "on business days")
    )
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:'Noto Sans KR','Malgun Gothic',sans-serif;margin:16px;color:#1b1b1b}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:18px 0 6px}
table.month{border-collapse:collapse;width:100%;table-layout:fixed}
.month th{background:#2d3e50;color:#fff;font-weight:normal;padding:4px;font-size:13px}
.month td{border:1px solid #c9ced6;vertical-align:top;height:92px;padding:3px;font-size:12px}
.month td.out{background:#f4f4f4;color:#aaa}
.month td.closed{background:#fdeeee}
.month td.freeze{background-image:repeating-linear-gradient(45deg,#0000 0 6px,#e3e8ff 6px 12px)}
.num{font-weight:bold}.closed .num{color:#c0392b}.why{color:#c0392b;font-size:11px}
.hours{color:#667;font-size:11px}.fz{color:#3346a8;font-size:11px}
.ev{margin-top:2px;padding:1px 3px;border-radius:3px;background:#e6f2e6;border-left:3px solid #2e8b57}
.ev.collide{background:#fde2e1;border-left-color:#c0392b}.ev.emergency{border-left-color:#e67e22}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
ul{font-size:13px}
"""


def render_html(cal: ChangeCalendar, lang: str = "ko") -> str:
    """A month grid for every month of the period, self-contained (no script, no external file)."""
    zone = ZoneInfo(cal.timezone)
    e = html.escape
    colliding = _colliding(cal)
    by_day: dict[date, list[str]] = {}
    for s in cal.slots:
        classes = "ev" + (" collide" if s.rfc_id in colliding else "") + (f" {s.change_type}")
        label = f"{s.start.astimezone(zone):%H:%M} {s.rfc_id} {s.title}"
        tip = f"{_hm(s.start, zone)} – {_hm(s.end, zone)} · {', '.join(s.systems)}"
        by_day.setdefault(s.start.astimezone(zone).date(), []).append(
            f'<div class="{classes}" title="{e(tip)}">{e(label)}</div>'
        )
    for d in cal.deployments:
        label = f"{d.start.astimezone(zone):%H:%M} 배포 deploy {d.system} {', '.join(d.rfcs)}"
        by_day.setdefault(d.start.astimezone(zone).date(), []).append(f'<div class="ev">{e(label)}</div>')
    days = {d.info.day: d for d in cal.days}
    months = sorted({(d.year, d.month) for d in days})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ko"><head><meta charset="utf-8">',
        f"<title>변경 일정 Change calendar · {e(', '.join(cal.systems))}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>변경 일정 <small>Change calendar</small></h1>",
        f"<p>{e(_hm(cal.start, zone))} – {e(_hm(cal.end, zone))} ({e(cal.timezone)}) · "
        f"시스템 Systems: {e(', '.join(cal.systems))} · 업무시간 Business hours {e(cal.business_start)}–"
        f"{e(cal.business_end)}</p>",
        '<p class="legend"><span class="ev">예정 변경 Planned change</span>'
        '<span class="ev collide">일정 중복 Collision</span><span class="why">휴일 Holiday</span>'
        '<span class="fz">배포 동결 Freeze</span></p>',
    ]
    for year, month in months:
        parts.append(f"<h2>{year}년 {month}월 <small>{stdcal.month_name[month]} {year}</small></h2>")
        parts.append('<table class="month"><tr>')
        parts.extend(f"<th>{ko} {en}</th>" for ko, en in _WEEKDAYS)
        parts.append("</tr>")
        for week in stdcal.Calendar(firstweekday=0).monthdatescalendar(year, month):
            parts.append("<tr>")
            for day in week:
                info = days.get(day)
                if day.month != month or info is None:
                    parts.append(f'<td class="out"><span class="num">{day.day}</span></td>')
                    continue
                classes = ("closed " if not info.info.business else "") + ("freeze" if info.freezes else "")
                cell = [f'<span class="num">{day.day}</span>']
                if not info.info.business:
                    cell.append(
                        f' <span class="why">{e(info.info.reason_ko)} {e(info.info.reason_en)}</span>'
                    )
                else:
                    cell.append(
                        f'<div class="hours">업무 {e(cal.business_start)}–{e(cal.business_end)}</div>'
                    )
                cell.extend(f'<div class="fz">동결 Freeze: {e(name)}</div>' for name in info.freezes)
                cell.extend(by_day.get(day, []))
                parts.append(f'<td class="{classes.strip()}">{"".join(cell)}</td>')
            parts.append("</tr>")
        parts.append("</table>")
    if cal.findings:
        parts.append("<h2>일정 중복 <small>Collisions</small></h2><ul>")
        for c in cal.collisions:
            en, ko = describe_reasons(c)
            parts.append(
                f"<li>{e(c.first.rfc_id)} ↔ {e(c.second.rfc_id)}: {e(ko)} / {e(en)} "
                f"({e(_hm(c.start, zone))} – {e(_hm(c.end, zone))})</li>"
            )
        parts.append("</ul>")
    if cal.unscheduled:
        parts.append("<h2>일정 미정 <small>Not placed</small></h2><ul>")
        parts.extend(
            f"<li>{e(u.rfc_id)} {e(u.title)}: {e(u.reason_ko)} / {e(u.reason_en)}</li>"
            for u in cal.unscheduled
        )
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_ics(cal: ChangeCalendar, now: datetime) -> bytes:
    """An iCalendar file: one event per planned change (collisions said in it), per freeze, per holiday."""
    from icalendar import Calendar, Event

    zone = ZoneInfo(cal.timezone)
    book = Calendar()
    book.add("prodid", "-//gatekeeper//change calendar//KO")
    book.add("version", "2.0")
    book.add("x-wr-calname", f"변경 일정 Change calendar ({', '.join(cal.systems)})")
    book.add("x-wr-timezone", cal.timezone)
    stamp = now.astimezone(ZoneInfo("UTC"))
    partners: dict[str, list[str]] = {}
    for c in cal.collisions:
        en, ko = describe_reasons(c)
        partners.setdefault(c.first.rfc_id, []).append(f"{c.second.rfc_id}: {ko} / {en}")
        partners.setdefault(c.second.rfc_id, []).append(f"{c.first.rfc_id}: {ko} / {en}")
    for s in cal.slots:
        event = Event()
        event.add("uid", f"{s.rfc_id}@gatekeeper")
        event.add("dtstamp", stamp)
        event.add("dtstart", s.start.astimezone(ZoneInfo("UTC")))
        event.add("dtend", s.end.astimezone(ZoneInfo("UTC")))
        event.add("summary", f"{s.rfc_id} {s.title}")
        lines = [
            f"유형 Type: {_TYPE_KO.get(s.change_type, s.change_type)} {s.change_type}",
            f"시스템 Systems: {', '.join(s.systems)}",
            f"예정 Planned: {s.planned}",
        ]
        if s.linked:
            lines.append(f"연계 시스템 Linked: {', '.join(s.linked)}")
        lines.extend(f"일정 중복 Collision: {p}" for p in partners.get(s.rfc_id, ()))
        event.add("description", "\n".join(lines))
        event.add("categories", [s.change_type, *s.systems])
        if s.rfc_id in partners:
            event.add(
                "x-gatekeeper-collision", ", ".join(sorted(p.split(":")[0] for p in partners[s.rfc_id]))
            )
        book.add_component(event)
    for f in cal.freezes:
        event = Event()
        event.add("uid", f"freeze-{f.name}-{f.start.astimezone(zone):%Y%m%dT%H%M}@gatekeeper")
        event.add("dtstamp", stamp)
        event.add("dtstart", f.start.astimezone(ZoneInfo("UTC")))
        event.add("dtend", f.end.astimezone(ZoneInfo("UTC")))
        event.add("summary", f"배포 동결 Freeze: {f.name}")
        event.add("transp", "TRANSPARENT")
        book.add_component(event)
    for d in cal.days:
        if d.info.business or d.info.reason_en in ("Saturday", "Sunday"):
            continue
        event = Event()
        event.add("uid", f"holiday-{d.info.day.isoformat()}@gatekeeper")
        event.add("dtstamp", stamp)
        event.add("dtstart", d.info.day)
        event.add("dtend", d.info.day + timedelta(days=1))
        event.add("summary", f"휴일 {d.info.reason_ko} ({d.info.reason_en})")
        event.add("transp", "TRANSPARENT")
        book.add_component(event)
    return bytes(book.to_ical())
