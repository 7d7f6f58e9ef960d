"""The change calendar for people: a text table (columns by display width), a self-contained HTML month
view (Korean first), and an iCalendar file (RFC 5545, via `icalendar`) to subscribe to in calendar apps."""

from __future__ import annotations

import calendar as stdcal
import html
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.checks.calendar import ChangeCalendar
from gatekeeper.domain.changecal import describe_reasons
from gatekeeper.messages import in_language, msg, ptr, tr
from gatekeeper.reporters.columns import pad, width
from gatekeeper.reporters.words import short_type, word

# The HTML view and the iCalendar file say everything in Korean first, then in English.


def _words(lang: str) -> dict[str, str]:
    return {
        "calendar": ptr(lang, "change calendar", "Change calendar"),
        "systems": ptr(lang, "change calendar", "Systems"),
        "business-hours": ptr(lang, "change calendar", "Business hours"),
        "hours": ptr(lang, "change calendar: day", "Business hours"),
        "planned-change": ptr(lang, "change calendar", "Planned change"),
        "collision": ptr(lang, "change calendar", "Collision"),
        "collisions": ptr(lang, "change calendar", "Collisions"),
        "holiday": ptr(lang, "change calendar", "Holiday"),
        "freeze": ptr(lang, "change calendar", "Freeze"),
        "frozen": ptr(lang, "change calendar: day", "Freeze"),
        "not-placed": ptr(lang, "change calendar", "Not placed"),
        "deploy": ptr(lang, "change calendar", "deploy"),
        "type": ptr(lang, "change calendar", "Type"),
        "planned": ptr(lang, "change calendar", "Planned"),
        "linked": ptr(lang, "change calendar", "Linked"),
    }


def _weekdays(lang: str) -> tuple[str, ...]:
    return (
        ptr(lang, "weekday", "Mon"),
        ptr(lang, "weekday", "Tue"),
        ptr(lang, "weekday", "Wed"),
        ptr(lang, "weekday", "Thu"),
        ptr(lang, "weekday", "Fri"),
        ptr(lang, "weekday", "Sat"),
        ptr(lang, "weekday", "Sun"),
    )


def _both() -> dict[str, str]:
    """Each word of `_words`, Korean first and then English."""
    ko, en = _words("ko"), _words("en")
    return {key: f"{ko[key]} {en[key]}" for key in en}


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
        kind = short_type(s.change_type, lang)
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
            f"  {d.info.day.isoformat()}  {in_language(lang, d.info.reason_en, d.info.reason_ko)}"
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
            f"  {u.rfc_id}  {u.title}  ({in_language(lang, u.reason_en, u.reason_ko)})"
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
    ko, en, both = _words("ko"), _words("en"), _both()
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
        label = f"{d.start.astimezone(zone):%H:%M} {both['deploy']} {d.system} {', '.join(d.rfcs)}"
        by_day.setdefault(d.start.astimezone(zone).date(), []).append(f'<div class="ev">{e(label)}</div>')
    days = {d.info.day: d for d in cal.days}
    months = sorted({(d.year, d.month) for d in days})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ko"><head><meta charset="utf-8">',
        f"<title>{both['calendar']} · {e(', '.join(cal.systems))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{ko['calendar']} <small>{en['calendar']}</small></h1>",
        f"<p>{e(_hm(cal.start, zone))} – {e(_hm(cal.end, zone))} ({e(cal.timezone)}) · "
        f"{both['systems']}: {e(', '.join(cal.systems))} · {both['business-hours']} {e(cal.business_start)}–"
        f"{e(cal.business_end)}</p>",
        f'<p class="legend"><span class="ev">{both["planned-change"]}</span>'
        f'<span class="ev collide">{both["collision"]}</span><span class="why">{both["holiday"]}</span>'
        f'<span class="fz">{both["freeze"]}</span></p>',
    ]
    for year, month in months:
        heading = msg("{month_name} {year}", month_name=stdcal.month_name[month], year=year, month=month)
        parts.append(f"<h2>{heading.ko} <small>{heading.en}</small></h2>")
        parts.append('<table class="month"><tr>')
        parts.extend(f"<th>{k} {n}</th>" for k, n in zip(_weekdays("ko"), _weekdays("en"), strict=True))
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
                    hours = f"{e(cal.business_start)}–{e(cal.business_end)}"
                    cell.append(f'<div class="hours">{ko["hours"]} {hours}</div>')
                cell.extend(f'<div class="fz">{both["frozen"]}: {e(name)}</div>' for name in info.freezes)
                cell.extend(by_day.get(day, []))
                parts.append(f'<td class="{classes.strip()}">{"".join(cell)}</td>')
            parts.append("</tr>")
        parts.append("</table>")
    if cal.findings:
        parts.append(f"<h2>{ko['collisions']} <small>{en['collisions']}</small></h2><ul>")
        for c in cal.collisions:
            reasons_en, reasons_ko = describe_reasons(c)
            parts.append(
                f"<li>{e(c.first.rfc_id)} ↔ {e(c.second.rfc_id)}: {e(reasons_ko)} / {e(reasons_en)} "
                f"({e(_hm(c.start, zone))} – {e(_hm(c.end, zone))})</li>"
            )
        parts.append("</ul>")
    if cal.unscheduled:
        parts.append(f"<h2>{ko['not-placed']} <small>{en['not-placed']}</small></h2><ul>")
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
    both = _both()
    book = Calendar()
    book.add("prodid", "-//gatekeeper//change calendar//KO")
    book.add("version", "2.0")
    book.add("x-wr-calname", f"{both['calendar']} ({', '.join(cal.systems)})")
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
            f"{both['type']}: {short_type(s.change_type, 'ko')} {s.change_type}",
            f"{both['systems']}: {', '.join(s.systems)}",
            f"{both['planned']}: {s.planned}",
        ]
        if s.linked:
            lines.append(f"{both['linked']}: {', '.join(s.linked)}")
        lines.extend(f"{both['collision']}: {p}" for p in partners.get(s.rfc_id, ()))
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
        event.add("summary", f"{both['freeze']}: {f.name}")
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
        event.add("summary", f"{_words('ko')['holiday']} {d.info.reason_ko} ({d.info.reason_en})")
        event.add("transp", "TRANSPARENT")
        book.add_component(event)
    return bytes(book.to_ical())
