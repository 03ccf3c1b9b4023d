"""The desk in the patron's language (issue 19), as a patron and a librarian use it: the
whole loop in Spanish and in Arabic (right to left) with axe finding nothing, the
language negotiation of the loader on a library's own site, the patron's own choice,
and the launcher's "Chat in progress" after a reload (issue 20)."""

import http.server
import re
import threading

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import chat_item, unique

LIBRARY_PAGE = """<!doctype html><html{lang}><head><meta charset="utf-8">
<title>Biblioteca</title></head><body><main><h1>Biblioteca Pública</h1>
<p>Horario y noticias.</p></main>
<script src="{desk}/static/widget/loader.js" data-department="{department}"{data_lang} async>
</script></body></html>"""


@pytest.fixture
def library_site(live_desk):
    """``library_site(lang=…, data_lang=…, department=…)``: the URL of a library page on
    another site (localhost, the desk being 127.0.0.1) with that <html lang> and embed."""
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = pages.get(self.path.split("?")[0])
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def page(lang=None, data_lang=None, department="reference"):
        path = f"/page-{len(pages)}.html"
        pages[path] = LIBRARY_PAGE.format(
            desk=live_desk.url,
            department=department,
            lang=f' lang="{lang}"' if lang is not None else "",
            data_lang=f' data-lang="{data_lang}"' if data_lang else "",
        ).encode()
        return f"http://localhost:{server.server_address[1]}{path}"

    yield page
    server.shutdown()


def widget_frame(page):
    return page.frame_locator("iframe[data-libdesk=frame]")


def frame_language(page):
    frame = page.locator("iframe[data-libdesk=frame]").element_handle().content_frame()
    frame.wait_for_load_state()
    return frame.evaluate("[document.documentElement.lang, document.documentElement.dir]")


def send(page_or_frame, label, button, text):
    page_or_frame.get_by_label(label, exact=True).fill(text)
    page_or_frame.get_by_role("button", name=button, exact=True).click()


LOOPS = {
    "es": {
        "dir": "ltr",
        "name": "Su nombre",
        "question": "Su pregunta",
        "start": "Iniciar chat",
        "waiting": "Esperando a un bibliotecario.",
        "joined": "Alice se ha unido al chat.",
        "chatting": "Está chateando con Alice.",
        "message": "Mensaje",
        "send": "Enviar",
        "end": "Terminar el chat",
        "ended_line": "El usuario terminó el chat.",
        "ended": "Este chat ha terminado. ¡Gracias por su consulta!",
        "rating": "5 – muy útil",
        "send_rating": "Enviar valoración",
        "rated": "¡Gracias por su valoración!",
        "email": "Enviar una copia de este chat a",
        "email_button": "Enviarme esta conversación por correo",
        "emailed": "Se está enviando una copia de este chat a",
        "patron_text": "¿Tienen el periódico «La Opinión» de 1926? Año, número… ¡gracias!",
    },
    "ar": {
        "dir": "rtl",
        "name": "اسمك",
        "question": "سؤالك",
        "start": "ابدأ المحادثة",
        "waiting": "في انتظار أمين المكتبة.",
        "joined": "انضم Alice إلى المحادثة.",
        "chatting": "أنت تتحدث مع Alice.",
        "message": "الرسالة",
        "send": "إرسال",
        "end": "إنهاء المحادثة",
        "ended_line": "أنهى المستفيد المحادثة.",
        "ended": "انتهت هذه المحادثة. شكرًا على سؤالك!",
        "rating": "5 – مفيدة جدًا",
        "send_rating": "إرسال التقييم",
        "rated": "شكرًا على تقييمك!",
        "email": "أرسل نسخة من هذه المحادثة إلى",
        "email_button": "أرسل لي نص المحادثة بالبريد الإلكتروني",
        "emailed": "نسخة من هذه المحادثة في طريقها إلى",
        "patron_text": "هل لديكم مخطوطات عربية من القرن التاسع عشر؟ شكرًا!",
    },
}


@pytest.mark.parametrize("lang", ["es", "ar"])
def test_the_patrons_whole_loop_in_their_language(
    lang, new_page, live_desk, operator_page, mail_dir_snapshot
):
    words = LOOPS[lang]
    dashboard = operator_page("alice")
    page = new_page()
    # The widget's page on its own (as the iframe loads it), so that axe audits it whole.
    page.goto(f"{live_desk.url}/widget/reference/?lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", words["dir"])
    expect(page.get_by_role("button", name=words["start"])).to_be_visible()
    assert_accessible(page, f"{lang}: pre-chat form")

    patron = unique("Lupe" if lang == "es" else "Layla")
    page.get_by_role("textbox", name=words["name"]).fill(patron)
    page.get_by_role("textbox", name=words["question"]).fill(words["patron_text"])
    page.get_by_role("button", name=words["start"]).click()
    expect(page.get_by_role("status").filter(has_text=words["waiting"])).to_be_visible()
    assert_accessible(page, f"{lang}: waiting")

    item = chat_item(dashboard, patron)
    expect(item).to_contain_text(words["patron_text"])
    item.get_by_role("button", name="Claim Chat").click()
    log = page.get_by_role("log")
    expect(log).to_contain_text(words["joined"])
    expect(page.get_by_text(words["chatting"])).to_be_visible()
    # The operator sees the system line as the patron does (stored in the chat's language).
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text(words["joined"])

    send(dashboard, "Message", "Send", "Yes: microfilm room, floor 2.")
    expect(log).to_contain_text("Yes: microfilm room, floor 2.")
    send(page, words["message"], words["send"], "¿Y los domingos?" if lang == "es" else "والأحد؟")
    conversation = dashboard.get_by_role("log", name="Conversation")
    expect(conversation).to_contain_text("¿Y los domingos?" if lang == "es" else "والأحد؟")
    # What the patron sees, in order: the question, who joined, the answer, their reply.
    texts = [t.strip() for t in log.locator("li .msg-body").all_inner_texts()]
    assert texts[-4:] == [
        words["patron_text"],
        words["joined"],
        "Yes: microfilm room, floor 2.",
        "¿Y los domingos?" if lang == "es" else "والأحد؟",
    ]
    assert_accessible(page, f"{lang}: chatting")
    if lang == "ar":
        # Mirrored: the patron's own messages sit on the left, the librarian's on the right,
        # and the header's close button on the left.
        own = log.locator("li.msg-self").last.bounding_box()
        theirs = log.locator("li.msg-operator").last.bounding_box()
        assert own["x"] < theirs["x"]
        close = page.get_by_role("button", name="إغلاق نافذة المحادثة").bounding_box()
        title = page.get_by_role("heading", level=1).bounding_box()
        assert close["x"] < title["x"]

    page.get_by_role("button", name=words["end"]).click()
    expect(log).to_contain_text(words["ended_line"])
    expect(page.get_by_text(words["ended"])).to_be_visible()
    assert_accessible(page, f"{lang}: ended")

    page.get_by_label(words["rating"]).check()
    page.get_by_role("button", name=words["send_rating"]).click()
    expect(page.get_by_text(words["rated"])).to_be_visible()

    address = f"{patron.split()[0].lower()}-{lang}@example.org"
    page.get_by_label(words["email"]).fill(address)
    page.get_by_role("button", name=words["email_button"]).click()
    expect(page.get_by_role("status").filter(has_text=words["emailed"])).to_be_visible()
    assert_accessible(page, f"{lang}: ended, rated, transcript sent")

    def transcript_mail():
        for message in live_desk.mails()[mail_dir_snapshot:]:
            if message["To"] == address:
                return message
        return None

    for _ in range(60):
        mail = transcript_mail()
        if mail:
            break
        page.wait_for_timeout(500)
    assert mail is not None, "no transcript email"
    text = next(
        part.get_payload(decode=True).decode()
        for part in mail.walk()
        if part.get_content_type() == "text/plain"
    )
    assert words["joined"] in text and words["ended_line"] in text
    if lang == "es":
        assert "Su chat con Reference Desk" in text and "Iniciado el " in text
        assert "Gracias por consultar a" in text
    else:
        assert "محادثتك مع Reference Desk" in text


@pytest.mark.parametrize(
    "lang, data_lang, locale, expected, launcher",
    [
        ("es", None, "en-US", "es", "Pregunte a un bibliotecario"),  # the page's language
        ("es-MX", None, "en-US", "es", "Pregunte a un bibliotecario"),
        ("es", "ar", "en-US", "ar", "اسأل أمين المكتبة"),  # data-lang wins over the page
        (None, None, "es-ES", "es", "Ask a librarian"),  # neither: the browser's language
        ("fr", None, "es-ES", "en", "Ask a librarian"),  # unknown: the library's default
    ],
)
def test_the_widget_takes_the_library_pages_language(
    new_page, library_site, lang, data_lang, locale, expected, launcher
):
    page = new_page(locale=locale)
    page.goto(library_site(lang=lang, data_lang=data_lang))
    page.get_by_role("button", name=launcher).click()
    expect(widget_frame(page).get_by_role("heading", level=1)).to_be_visible()
    assert frame_language(page) == [expected, "rtl" if expected == "ar" else "ltr"]


def test_the_patrons_own_choice_of_language_sticks(new_page, library_site, operator_page):
    operator_page("bob")
    url = library_site(lang="es")
    page = new_page()
    page.goto(url)
    page.get_by_role("button", name="Pregunte a un bibliotecario").click()
    widget = widget_frame(page)
    expect(widget.get_by_role("button", name="Iniciar chat")).to_be_visible()
    widget.get_by_label("Idioma").select_option("ar")
    expect(widget.get_by_role("button", name="ابدأ المحادثة")).to_be_visible()
    assert frame_language(page) == ["ar", "rtl"]
    # The library's next page (or this one again) opens the widget in Arabic.
    page.goto(url)
    page.get_by_role("button", name="اسأل أمين المكتبة").click()
    expect(widget_frame(page).get_by_role("button", name="ابدأ المحادثة")).to_be_visible()
    assert (
        page.locator("iframe[data-libdesk=frame]")
        .get_attribute("src")
        .split("#")[0]
        .endswith("?lang=ar")
    )


def test_after_a_reload_the_launcher_says_a_chat_is_in_progress(new_page, live_desk, operator_page):
    dashboard = operator_page("bob")
    # The sample page: its widget is not cross-site, so this browser keeps the chat's token.
    page = new_page()
    page.goto(f"{live_desk.url}/demo/")
    page.get_by_role("button", name="Ask a librarian").click()
    widget = widget_frame(page)
    patron = unique("Reloaded")
    widget.get_by_label("Your name").fill(patron)
    widget.get_by_label("Your question").fill("Can I book a study room?")
    widget.get_by_role("button", name="Start chat").click()
    expect(widget.get_by_role("status").filter(has_text="Waiting for a librarian")).to_be_visible()

    page.reload()
    launcher = page.get_by_role("button", name="Ask a librarian · Chat in progress")
    expect(launcher).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)  # still closed: nothing loaded
    launcher.click()
    widget = widget_frame(page)
    expect(widget.get_by_role("log")).to_contain_text("Can I book a study room?")

    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(widget.get_by_text("You are chatting with Bob.")).to_be_visible()
    widget.get_by_role("button", name="End Chat").click()
    expect(widget.get_by_text("This chat has ended. Thank you for asking!")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Ask a librarian", exact=True)).to_be_visible()


@pytest.mark.parametrize(
    "lang, heading, intro, button",
    [
        (
            "en",
            "Leave a question",
            "We will answer by email.",
            "Send question",
        ),
        (
            "es",
            "Deje su pregunta",
            "Le responderemos por correo electrónico.",
            "Enviar pregunta",
        ),
    ],
)
def test_the_offline_form_reads_as_one_message_and_its_button_is_in_reach(
    new_page, library_site, lang, heading, intro, button
):
    # Special Collections: only Carmen works there, and she has no dashboard open.
    page = new_page(viewport={"width": 1280, "height": 720})
    page.goto(library_site(lang=lang, department="special-collections"))
    page.get_by_role("button").first.click()
    widget = widget_frame(page)
    expect(widget.get_by_role("heading", name=heading)).to_be_visible()
    section = widget.locator("#state-offline")
    words = section.inner_text()
    assert "try again later" not in words.lower() and "más tarde" not in words
    assert intro in words
    send_button = widget.get_by_role("button", name=button)
    box = send_button.bounding_box()
    frame_box = page.locator("iframe[data-libdesk=frame]").bounding_box()
    # The whole button shows inside the panel as it opens (600 px tall), not cut off.
    assert (
        frame_box["y"] <= box["y"]
        and box["y"] + box["height"] <= frame_box["y"] + frame_box["height"]
    )
    # On a short screen the form scrolls inside the panel, under a header that stays.
    page.set_viewport_size({"width": 1280, "height": 420})
    send_button.scroll_into_view_if_needed()
    box = send_button.bounding_box()
    frame_box = page.locator("iframe[data-libdesk=frame]").bounding_box()
    assert box["y"] + box["height"] <= frame_box["y"] + frame_box["height"]
    header = widget.locator(".widget-head").bounding_box()
    assert header["y"] >= frame_box["y"] - 1


def test_the_operators_dashboard_in_spanish(new_page, live_desk):
    """An operator whose browser asks for Spanish works the whole desk in Spanish; the
    header's language form switches it (and the choice sticks)."""
    from tests.e2e.conftest import DEMO_PASSWORDS

    dashboard = new_page(locale="es-ES")
    dashboard.goto(f"{live_desk.url}/dashboard/")
    expect(dashboard.get_by_role("heading", name="Acceso del personal")).to_be_visible()
    dashboard.get_by_label("Usuario").fill("alice")
    dashboard.get_by_label("Contraseña").fill(DEMO_PASSWORDS["alice"])
    dashboard.get_by_role("button", name="Iniciar sesión").click()
    expect(dashboard.get_by_role("heading", name="Chats de usuarios")).to_be_visible()
    expect(dashboard.locator("html")).to_have_attribute("lang", "es")
    expect(dashboard.locator("#connection")).to_have_text("Conectado")
    expect(dashboard.locator("#department-list li").first).to_be_visible()
    dashboard.get_by_role("radio", name="En línea").check()
    for heading in ("Chat interno", "Departamentos"):
        expect(dashboard.get_by_role("heading", name=heading)).to_be_visible()
    assert_accessible(dashboard, "dashboard in Spanish")

    patron = new_page()
    patron.goto(f"{live_desk.url}/widget/reference/?lang=es")
    name = unique("Rosa")
    patron.get_by_role("textbox", name="Su nombre").fill(name)
    patron.get_by_role("textbox", name="Su pregunta").fill("¿Puedo renovar en línea?")
    patron.get_by_role("button", name="Iniciar chat").click()
    # The operator sees the patron's language: on the waiting chat, then on the chat.
    item = chat_item(dashboard, name)
    expect(item).to_contain_text("Español")
    item.get_by_role("button", name="Atender chat").click()
    expect(dashboard.locator("#chat-language")).to_have_text("Español")
    expect(dashboard.get_by_role("log", name="Conversación")).to_contain_text(
        "Alice se ha unido al chat."
    )
    # Canned Messages: the Spanish OUX welcome first, for a Spanish-speaking patron.
    dashboard.get_by_role("button", name=re.compile("^Mensajes predefinidos")).click()
    listbox = dashboard.get_by_role("listbox", name="Mensajes predefinidos")
    dashboard.keyboard.type("welcome")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(listbox.get_by_role("option").first).to_contain_text("/bienvenida (es)")
    dashboard.keyboard.press("ArrowDown")
    dashboard.keyboard.press("Enter")
    message_box = dashboard.get_by_role("textbox", name="Mensaje", exact=True)
    expect(message_box).to_have_value(
        f"Hola, {name}: gracias por su pregunta. La estoy leyendo ahora mismo."
    )
    dashboard.get_by_role("button", name="Enviar", exact=True).click()
    expect(patron.get_by_role("log")).to_contain_text("gracias por su pregunta")
    expect(dashboard.get_by_role("button", name="Transferir", exact=True)).to_be_visible()
    expect(dashboard.get_by_role("button", name="Crear un caso")).to_be_visible()
    dashboard.get_by_role("button", name="Terminar el chat").click()
    expect(dashboard.get_by_role("button", name="Cerrar chat")).to_be_visible()
    assert_accessible(dashboard, "dashboard in Spanish, chat ended")

    # The operator's own choice, in the header: English from now on.
    dashboard.get_by_label("Idioma").select_option("en")
    dashboard.get_by_role("button", name="Cambiar idioma").click()
    expect(dashboard.get_by_role("heading", name="Patron Chats")).to_be_visible()
    dashboard.reload()
    expect(dashboard.get_by_role("heading", name="Patron Chats")).to_be_visible()
    expect(dashboard.locator("html")).to_have_attribute("lang", "en")
