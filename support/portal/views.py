"""Messages: the shop's conversations with its customers, live, with read receipts and photos.

The list and the thread are partials, each with one view that the live refresh
calls again; the reply form sits outside both, so a refresh never touches what
someone is typing.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from support import selectors, services
from support.downloads import attachment_response
from support.models import Conversation, MessageAttachment
from vendors.portal.access import vendor_portal_view
from zora.errors import ServiceError
from zora.forms import add_service_error

from .forms import ConversationSearchForm, ReplyForm

PAGE = "vendor/messages/messages.html"
CONVERSATIONS_SHOWN = 50


def _vendor_conversation(request, pk) -> Conversation:
    return get_object_or_404(Conversation.objects.select_related("customer", "order"), pk=pk, vendor=request.vendor)


def _list_context(request, selected: Conversation | None = None) -> dict:
    search = ConversationSearchForm(request.GET)
    query = search.query()
    found = selectors.with_last_message(selectors.conversation_search(user=request.user, query=query))
    conversations = list(found[: CONVERSATIONS_SHOWN + 1])
    selected_id = selected.pk if selected else request.GET.get("selected", "")
    return {
        "search": search,
        "query": query,
        "conversations": conversations[:CONVERSATIONS_SHOWN],
        "more_conversations": len(conversations) > CONVERSATIONS_SHOWN,
        "selected_id": str(selected_id),
    }


def _thread_context(request, conversation: Conversation) -> dict:
    """Opening the thread is reading it: the customer sees "Seen" on what they sent."""
    if request.GET.get("visible", "1") == "1":
        services.conversation_mark_read(conversation=conversation, reader=request.user)
    return {"conversation": conversation, "thread_messages": selectors.conversation_messages(conversation=conversation)}


def _conversation_page(request, conversation: Conversation, form: ReplyForm, status: int = 200):
    # The thread first: marking it read clears its unread badge in the list beside it.
    context = {**_thread_context(request, conversation), **_list_context(request, conversation), "form": form}
    return render(request, PAGE, context, status=status)


@vendor_portal_view
def messages_page(request):
    return render(request, PAGE, _list_context(request))


@vendor_portal_view
def conversation_list(request):
    return render(request, f"{PAGE}#conversation-list", _list_context(request))


@vendor_portal_view
def conversation_page(request, pk):
    return _conversation_page(request, _vendor_conversation(request, pk), ReplyForm())


@vendor_portal_view
def conversation_thread(request, pk):
    conversation = _vendor_conversation(request, pk)
    return render(request, f"{PAGE}#thread", _thread_context(request, conversation))


@vendor_portal_view
@require_POST
def conversation_reply(request, pk):
    conversation = _vendor_conversation(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.conversation_send_message(
                conversation=conversation,
                sender=request.user,
                body=form.cleaned_data["body"],
                attachments=form.attachment_list(),
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            if request.htmx:
                # The thread listens for this too, so the reply shows even before its event arrives.
                response = render(request, f"{PAGE}#reply-form", {"conversation": conversation, "form": ReplyForm()})
                response["HX-Trigger"] = "zora:message-sent"
                return response
            messages.success(request, "Message sent.")
            return redirect("vendor:conversation", pk=conversation.pk)
    if request.htmx:
        return render(request, f"{PAGE}#reply-form", {"conversation": conversation, "form": form}, status=422)
    return _conversation_page(request, conversation, form)


@vendor_portal_view
def conversation_attachment(request, pk):
    """A photo from one of the shop's conversations; any other is a 404."""
    attachment = get_object_or_404(MessageAttachment, pk=pk, message__conversation__vendor=request.vendor)
    return attachment_response(attachment, thumbnail=request.GET.get("size") == "thumbnail")
