"""``python -m tests.identity.oidc_op.serve <port> <setup.json>``: load the people and
clients, then serve the provider on 127.0.0.1:<port> (threaded WSGI)."""

import json
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def setup(data):
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for username, person in data["people"].items():
        user = User.objects.create_user(
            username,
            email=f"{username}@library.example",
            password=person["password"],
            first_name=person["given_name"],
            last_name=person["family_name"],
        )
        for name in person["groups"]:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    for client in data["clients"]:
        Application.objects.create(
            name=client["client_id"],
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(client["redirect_uris"]),
            post_logout_redirect_uris=" ".join(client.get("post_logout_redirect_uris", [])),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )


def main(port, setup_file):
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    with open(setup_file) as f:
        setup(json.load(f))
    from django.core.wsgi import get_wsgi_application

    with make_server(
        "127.0.0.1", int(port), get_wsgi_application(), ThreadingServer, QuietHandler
    ) as httpd:
        httpd.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
