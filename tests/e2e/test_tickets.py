"""Tickets, as a librarian and a patron do them: a ticket from a chat for another
department, answered by email from /tickets/; and the widget's offline form."""

import re
import time
from email.header import decode_header, make_header

from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import DEMO_PASSWORDS
from tests.e2e.helpers import ask, chat_item, unique


def staff_page(new_page, live_desk, username, path="/tickets/"):
    page = new_page()
    page.goto(f"{live_desk.url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Tickets", exact=True)).to_be_visible()
    return page


def wait_for_mail(live_desk, predicate, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in live_desk.mails() if predicate(m)]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the email did not arrive")


def test_a_ticket_from_a_chat_is_answered_by_another_department_by_email(
    operator_page, patron_page, new_page, live_desk
):
    dashboard = operator_page("alice")
    page, widget = patron_page()
    patron = unique("Tix")
    patron_email = f"{patron.replace(' ', '-').lower()}@example.org"
    ask(widget, "Do you hold the Smith family papers?", name=patron)  # no email given
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text("Smith family papers")

    # Alice: Create a ticket → queue Special Collections, Carmen, notes → Create Ticket.
    dashboard.get_by_role("button", name="Create a ticket").click()
    dialog = dashboard.get_by_role("dialog", name="Create a ticket")
    dialog.get_by_label("Queue").select_option(label="Special Collections")
    dialog.get_by_label("Person (optional)").select_option(label="Carmen")
    dialog.get_by_label("Notes").fill("Patron needs box list for the Smith papers.")
    dialog.get_by_role("button", name="Create Ticket").click()
    expect(dialog).to_be_hidden()
    notice = dashboard.get_by_role("status").filter(has_text="created for Special Collections")
    expect(notice).to_be_visible()
    reference = re.search(r"LD-\d+", notice.inner_text()).group(0)

    # The patron sees the notice and is asked for an email address first.
    log = widget.get_by_role("log")
    expect(log).to_contain_text(f"A ticket ({reference}) was created for Special Collections.")
    widget.get_by_label("Your email address").fill(patron_email)
    widget.get_by_role("button", name="Save email address").click()
    expect(log).to_contain_text("Special Collections will follow up with you by email")
    expect(widget.get_by_label("Your email address")).to_have_count(0)

    # Carmen answers from /tickets/.
    carmen = staff_page(new_page, live_desk, "carmen", "/tickets/?view=mine")
    carmen.get_by_role("link", name=reference).click()
    expect(carmen.get_by_role("heading", level=1)).to_contain_text(
        "Do you hold the Smith family papers?"
    )
    expect(carmen.get_by_text("Patron needs box list for the Smith papers.")).to_be_visible()
    carmen.get_by_label("Reply to the patron (emailed)").fill(
        "Yes: 14 boxes. <b>List attached</b> soon."
    )
    carmen.get_by_role("button", name="Send reply").click()
    expect(carmen.get_by_role("status").filter(has_text="Reply queued")).to_be_visible()

    [reply] = wait_for_mail(live_desk, lambda m: m["To"] == patron_email)
    assert reply["Subject"].startswith(f"[{reference}] ")
    assert reply["Reply-To"] == f"desk+{reference}@library.example"
    for _ in range(50):  # the worker (Redis configuration) records "sent" just after sending
        carmen.reload()
        if "Email: Sent" in carmen.content():
            break
        time.sleep(0.2)
    expect(carmen.get_by_text("Email: Sent")).to_be_visible()


def test_with_nobody_online_the_offline_form_makes_a_ticket(new_page, live_desk):
    # Special Collections: only Carmen works there, and she has no dashboard open.
    patron = new_page()
    patron.goto(f"{live_desk.url}/widget/special-collections/")
    expect(patron.get_by_role("heading", name="Leave a question")).to_be_visible()
    expect(patron.get_by_role("button", name="Start chat")).to_be_hidden()
    question = unique("Are the 1910 Sanborn maps digitised?")
    patron.get_by_role("textbox", name="Name (optional)", exact=True).fill("Offline Pat")
    patron.get_by_role("textbox", name="Email address").fill("offline-pat@example.org")
    patron.get_by_role("textbox", name="Question", exact=True).fill(question)
    patron.get_by_role("button", name="Send question").click()
    sent = patron.get_by_role("status").filter(has_text="Your question was sent")
    expect(sent).to_be_visible()
    reference = re.search(r"LD-\d+", sent.inner_text()).group(0)

    carmen = staff_page(new_page, live_desk, "carmen")
    row = carmen.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text(question[:60])
    expect(row).to_contain_text("Special Collections")
    expect(row).to_contain_text("Unassigned")


def test_the_ticket_desk_in_spanish_for_a_librarian_who_chose_spanish(new_page, live_desk):
    """Carmen chooses Spanish in the header: the tickets list and a ticket's page are in
    Spanish (axe finds nothing), and the desk's mail to her about a new ticket too."""
    page = new_page(locale="es-ES")
    page.goto(f"{live_desk.url}/tickets/")
    page.get_by_label("Usuario").fill("carmen")
    page.get_by_label("Contraseña").fill(DEMO_PASSWORDS["carmen"])
    page.get_by_role("button", name="Iniciar sesión").click()
    page.get_by_label("Idioma").select_option("es")
    page.get_by_role("button", name="Cambiar idioma").click()
    expect(page.get_by_role("heading", name="Casos", exact=True)).to_be_visible()

    question = unique("¿Tienen los mapas Sanborn de 1910 digitalizados?")
    reference = live_desk.shell(
        "from chat.models import Department; from tickets import services;"
        "t = services.ticket_create_from_offline_form(department=Department.objects.get("
        "slug='special-collections'), name='Lucía', email='lucia@example.org',"
        f" question={question!r}, language='es'); print(t.reference)"
    ).split()[-1]

    def subject(message):
        return str(make_header(decode_header(message["Subject"])))

    [notice] = wait_for_mail(live_desk, lambda m: reference in subject(m) and "carmen" in m["To"])
    assert f"[{reference}] Caso nuevo para Special Collections: " in subject(notice)

    page.reload()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Sin asignar")
    row.get_by_role("link", name=reference).click()
    for heading in ("Conversación", "Responder", "Nota interna", "Historial"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Enviar respuesta")).to_be_visible()
    page.get_by_label("Nota interna (nunca se envía por correo)").fill("Consultar el archivo")
    page.get_by_role("button", name="Añadir nota").click()
    expect(page.get_by_role("status")).to_contain_text("Nota interna añadida.")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page, "a ticket's page in Spanish")

    # Back to English (the desk's other tests read Carmen's mail in English).
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar idioma").click()
    expect(page.get_by_role("heading", name="Reply", exact=True)).to_be_visible()
