"""The chat desk's data: departments, operators, chats, messages and their audit trail.

Nobody saves these models but ``chat.services`` (one write path per entity).

A package (it outgrew one module), one module per kind of thing: departments; operators
(and their memberships and dashboard sockets); chats (with their messages and audit
trail); canned (canned messages); internal (internal chats); transfers; attachments;
ratings; blocks (patron blocks); campus_identity (campus sign-in). Everything is
importable from ``chat.models`` itself, which is what the code, the migrations
(``chat.models.attachment_storage_name``), the admin and chat/translation.py use.
"""

# isort: off
# In the order the models were defined in the one module they came from, so that the app
# registry lists them as before (apps.get_models(), dumpdata, the admin's registry).
from chat.models.departments import Department  # noqa: F401
from chat.models.operators import Membership, Operator, OperatorConnection  # noqa: F401
from chat.models.chats import Chat, ChatAudit, Message, hash_token  # noqa: F401
from chat.models.canned import CannedMessage  # noqa: F401
from chat.models.internal import InternalChat, InternalChatArchive, InternalMessage  # noqa: F401
from chat.models.transfers import Transfer  # noqa: F401
from chat.models.attachments import Attachment, attachment_storage_name  # noqa: F401
from chat.models.ratings import ChatRating  # noqa: F401
from chat.models.blocks import PatronBlock  # noqa: F401
from chat.models.campus_identity import CampusIdentity, SignInMapping, SignInProvider  # noqa: F401
# isort: on
