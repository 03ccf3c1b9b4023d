"""Demo departments and operators for `make demo` (idempotent: safe to run again)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from chat import services
from chat.models import CannedMessage, Department, Membership, Operator

DEPARTMENTS = [
    {
        "slug": "reference",
        "name": "Reference Desk",
        "description": "General questions: finding books and articles, citations, accounts.",
        # Per language (chat/translation.py): the widget shows the patron's, else English.
        "greeting_en": "Ask a librarian: we answer live during opening hours.",
        "greeting_es": (
            "Pregunte a un bibliotecario: respondemos en directo en horario de apertura."
        ),
        "greeting_ar": "اسأل أمين المكتبة: نجيب مباشرة خلال ساعات الدوام.",
    },
    {
        "slug": "special-collections",
        "name": "Special Collections",
        "description": "Archives, rare books and local history.",
        "greeting_en": "Questions about archives and rare books.",
        "greeting_es": "Preguntas sobre archivos y libros raros.",
        "greeting_ar": "أسئلة عن الأرشيف والكتب النادرة.",
    },
    {
        "slug": "circulation",
        "name": "Circulation",
        "description": "Loans, renewals, holds and fines.",
        "greeting_en": "Loans, renewals, holds and fines.",
        "greeting_es": "Préstamos, renovaciones, reservas y multas.",
        "greeting_ar": "الإعارة والتجديد والحجز والغرامات.",
    },
]

# username, first name, password, departments, departments they are Department admin of
# (in /admin/: their settings, canned messages and chats; chat.admin_scope)
OPERATORS = [
    ("alice", "Alice", "alice-desk-demo", ["reference", "circulation"], []),
    ("bob", "Bob", "bob-desk-demo", ["reference"], []),
    ("carmen", "Carmen", "carmen-desk-demo", ["special-collections"], ["special-collections"]),
]
ADMIN = ("admin", "Admin", "admin-desk-demo")

# title, shortcut, body, department slug (None: every department), language (the picker
# offers a chat's own language first)
CANNED = [
    (
        "OUX welcome",
        "/welcome",
        "Hi {patron_name}, thanks for your question — I'm reading it over now.",
        "reference",
        "en",
    ),
    (
        "OUX welcome",
        "/bienvenida",
        "Hola, {patron_name}: gracias por su pregunta. La estoy leyendo ahora mismo.",
        "reference",
        "es",
    ),
    (
        "One moment",
        "/moment",
        "One moment while I check that for you, {patron_name}.",
        None,
        "en",
    ),
    (
        "Goodbye",
        "/bye",
        "Thanks for chatting with {library}, {patron_name}. Come back any time!",
        None,
        "en",
    ),
]


class Command(BaseCommand):
    help = "Create the demo departments and operators, and print their credentials."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        departments = {}
        for data in DEPARTMENTS:
            department, _ = Department.objects.update_or_create(
                slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
            )
            departments[data["slug"]] = department
        rows = []
        for username, first_name, password, slugs, admin_of in OPERATORS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.is_staff = first_name, True
            user.email = f"{username}@library.example"
            user.set_password(password)
            user.save()
            operator, _ = Operator.objects.get_or_create(user=user)
            for slug in slugs:
                Role = Membership.Role
                Membership.objects.update_or_create(
                    operator=operator,
                    department=departments[slug],
                    defaults={"role": Role.ADMIN if slug in admin_of else Role.OPERATOR},
                )
            where = ", ".join(departments[s].name for s in slugs)
            if admin_of:
                where += " (its Department admin, /admin/)"
            rows.append((username, password, where))
        username, first_name, password = ADMIN
        admin, _ = User.objects.get_or_create(username=username)
        admin.first_name, admin.is_staff, admin.is_superuser = first_name, True, True
        admin.set_password(password)
        admin.save()
        Operator.objects.get_or_create(user=admin)
        rows.append((username, password, "all (superuser, /admin/)"))
        for title, shortcut, body, slug, language in CANNED:
            department = departments[slug] if slug else None
            mine = CannedMessage.objects.filter(title=title, department=department)
            # A re-run finds it by language (a first run's message without one is English).
            canned = mine.filter(language=language).first() or (
                mine.filter(language="").first() if language == "en" else None
            )
            canned = canned or CannedMessage(title=title, department=department)
            Scope = CannedMessage.Scope
            canned.scope = Scope.DEPARTMENT if department else Scope.GLOBAL
            canned.shortcut, canned.body, canned.language = shortcut, body, language
            services.canned_message_save(canned=canned)
        self.stdout.write("Demo accounts (log in at /dashboard/ or /admin/):")
        for username, password, where in rows:
            self.stdout.write(f"  {username:8} password: {password:20} departments: {where}")
