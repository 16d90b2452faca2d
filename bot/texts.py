"""Every user-facing string of the bot, Arabic first, English for users whose Telegram language is not Arabic.

Replies are sent with ``parse_mode=HTML``, so :func:`t` escapes every value it puts into a template:
whatever a user typed (a topic name, a timezone, a search query) can never become markup. Values that
are already safe HTML (built by this module or by ``news.render``) are wrapped in :class:`Html` to be
inserted as they are.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

AR = "ar"
EN = "en"


class Html(str):
    """A string that is already safe Telegram HTML: :func:`t` inserts it without escaping."""

    __slots__ = ()


def lang_of(language_code: str | None) -> str:
    """Arabic unless Telegram says the user reads another language."""
    if language_code and not language_code.lower().startswith("ar"):
        return EN
    return AR


def esc(value: object) -> Html:
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[str], lang: str) -> Html:
    """A list of already escaped parts, separated the way the language writes lists."""
    return Html(("، " if lang == AR else ", ").join(parts))


def t(lang: str, key: str, /, **values: object) -> str:
    """The text ``key`` in ``lang`` with ``values`` escaped and filled in."""
    table = _EN if lang == EN else _AR
    safe = {k: v if isinstance(v, Html) else html.escape(str(v), quote=False) for k, v in values.items()}
    return table[key].format(**safe)


# Command descriptions for Telegram's menu (setMyCommands): plain text, no HTML, at most 256 characters.
COMMANDS_AR: dict[str, str] = {
    "start": "الاشتراك في النشرة أو استئنافها",
    "topics": "اختيار المواضيع",
    "time": "مواعيد النشرات (حتى ٤ يوميًا)، مثل /time 07:00 19:00",
    "timezone": "المنطقة الزمنية، مثل /timezone Africa/Cairo",
    "digest": "النشرة الآن",
    "latest": "آخر العناوين، أو عناوين موضوع واحد",
    "search": "البحث في الأخبار المخزنة",
    "settings": "إعدادات هذه المحادثة",
    "alerts": "تنبيهات الأخبار العاجلة: /alerts on أو off",
    "quiet": "ساعات الهدوء بلا تنبيهات، مثل /quiet 23:00 07:00",
    "sources": "كتم مصادر الأخبار أو إعادتها",
    "length": "طول النشرة: /length short (عناوين) أو full",
    "addtopic": "موضوع خاص بكلمات مفتاحية",
    "deltopic": "حذف موضوع خاص",
    "channel": "ربط قناة تديرها وضبطها من هنا",
    "stop": "إيقاف النشرة مؤقتًا",
    "help": "المساعدة",
    "addfeed": "إضافة مصدر أخبار (للمشغّلين)",
    "delfeed": "حذف مصدر أخبار (للمشغّلين)",
    "feeds": "حالة المصادر (للمشغّلين)",
    "stats": "إحصاءات (للمشغّلين)",
}
COMMANDS_EN: dict[str, str] = {
    "start": "Subscribe to the digest or resume it",
    "topics": "Choose topics",
    "time": "Edition times (up to 4 a day), e.g. /time 07:00 19:00",
    "timezone": "Timezone, e.g. /timezone Africa/Cairo",
    "digest": "The digest now",
    "latest": "Latest headlines, optionally of one topic",
    "search": "Search stored news",
    "settings": "This chat's settings",
    "alerts": "Breaking-news alerts: /alerts on or off",
    "quiet": "Quiet hours without alerts, e.g. /quiet 23:00 07:00",
    "sources": "Mute or unmute news outlets",
    "length": "Digest length: /length short (titles) or full",
    "addtopic": "Your own keyword topic",
    "deltopic": "Delete one of your topics",
    "channel": "Link a channel you run and set it up from here",
    "stop": "Pause the digest",
    "help": "Help",
    "addfeed": "Add a news feed (operators)",
    "delfeed": "Remove a news feed (operators)",
    "feeds": "Feed status (operators)",
    "stats": "Statistics (operators)",
}

_AR: dict[str, str] = {
    "internal_error": "عذرًا، حدث خطأ عندنا. حاول مرة أخرى بعد قليل.",
    "welcome_new": (
        "أهلًا بك في <b>نشرة</b> 📰\n"
        "سأرسل إلى {chat} كل يوم الساعة {time} ({tz}) أهم الأخبار العربية، مجمّعة ومرتّبة حسب المواضيع.\n"
        "اختر المواضيع من الأزرار أدناه، وغيّر الموعد بالأمر /time والمنطقة الزمنية بالأمر /timezone."
    ),
    "welcome_resumed": "عادت النشرة إلى {chat}: الموعد القادم {next}. إعداداتك السابقة محفوظة.",
    "welcome_already": (
        "{chat} مشتركة في النشرة بالفعل، والموعد القادم {next}. عدّل المواضيع من الأزرار أدناه."
    ),
    "group_added": (
        "شكرًا لإضافتي 👋 أنا بوت <b>نشرة</b> للأخبار العربية.\n"
        "ليبدأ الإرسال، يرسل أحد المشرفين الأمر /start ثم يختار المواضيع. لمعرفة المزيد: /help"
    ),
    "topics_prompt": "مواضيع النشرة في {chat}: اضغط على موضوع لتفعيله ✅ أو إلغائه.",
    "topics_summary": "مواضيع النشرة في {chat}: {topics}.",
    "topics_none": "لم تختر أي موضوع بعد، فلن تصل النشرة حتى تختار موضوعًا واحدًا على الأقل: /topics",
    "topic_on": "✅ {name}",
    "topic_off": "أُلغي: {name}",
    "btn_done": "تم ✔️",
    "btn_this_chat": "هذه المحادثة",
    "time_usage": "اكتب الموعد بعد الأمر، مثل: /time 07:30 (بتوقيت {tz}).",
    "time_set": "سأرسل النشرة إلى {chat} يوميًا الساعة {time} ({tz}). الموعد القادم: {next}.",
    "alerts_usage": (
        "لم أفهم «{value}». اكتب /alerts on لتفعيل التنبيهات العاجلة أو /alerts off لإيقافها، "
        "أو عددًا بين {low} و{high} للحد الأقصى في اليوم، مثل /alerts 5"
    ),
    "alerts_state": "التنبيهات العاجلة في {chat}: {state}",
    "alerts_on_state": "مفعّلة ✅، {cap} في اليوم على الأكثر، ولا تنبيهات في ساعات الهدوء ({quiet})",
    "alerts_off_state": "متوقفة (للتفعيل: /alerts on)",
    "quiet_none": "بلا ساعات هدوء",
    "quiet_usage": "ساعات الهدوء الآن: {now}. للتغيير: /quiet 23:00 07:00 — أو /quiet off لإلغائها.",
    "quiet_set": "ساعات الهدوء في {chat}: {quiet} ({tz}). لن تصل فيها تنبيهات عاجلة؛ النشرات تصل كالمعتاد.",
    "length_usage": (
        "اكتب /length short للعناوين فقط أو /length full للعناوين مع الملخصات، "
        "ويمكنك إضافة عدد الأخبار لكل موضوع (١–{high})، مثل: /length short 5"
    ),
    "length_set": "طول النشرة في {chat}: {length}.",
    "length_short": "قصيرة (عناوين فقط)، حتى {n} أخبار لكل موضوع",
    "length_full": "كاملة (عناوين وملخصات)، حتى {n} أخبار لكل موضوع",
    "sources_prompt": "مصادر الأخبار في {chat}: اضغط على مصدر لكتمه 🔇 أو إعادته ✅.\nالمكتومة: {muted}",
    "sources_none": "لا مصادر أخبار بعد. انتظر دورة الجلب القادمة ثم أعد المحاولة.",
    "no_such_source": "لا أعرف مصدرًا باسم «{name}». المصادر المتاحة: {names}",
    "source_muted": "كُتم المصدر «{name}» في {chat}: لن يظهر في النشرات والتنبيهات و/latest و/search.",
    "source_unmuted": "عاد المصدر «{name}» إلى {chat}.",
    "source_muted_short": "🔇 كُتم: {name}",
    "source_unmuted_short": "✅ عاد: {name}",
    "stats_chart": "📊 نشرة: الأخبار حسب الموضوع، حالة المصادر والرسائل المرسلة (آخر ٧ أيام)",
    "tz_prompt": "اختر المنطقة الزمنية لـ{chat}، أو اكتبها بعد الأمر مثل: /timezone Africa/Cairo",
    "tz_set": "المنطقة الزمنية لـ{chat} الآن {tz}. الموعد القادم: {next}.",
    "schedule_error": "{message}",
    "stop_done": "أوقفت النشرة في {chat}. الإعدادات محفوظة، وللاستئناف أرسل /start",
    "stop_already": "النشرة موقوفة بالفعل في {chat}. للاستئناف أرسل /start",
    "help": (
        "<b>نشرة</b>: أخبار عربية مختصرة كل يوم، من مصادر موثوقة، حسب المواضيع التي تختارها.\n\n"
        "/start الاشتراك أو الاستئناف\n"
        "/topics اختيار المواضيع\n"
        "/time 07:00 19:00 مواعيد النشرات (حتى ٤ يوميًا)\n"
        "/timezone Africa/Cairo المنطقة الزمنية\n"
        "/digest النشرة الآن\n"
        "/latest [موضوع] آخر العناوين\n"
        "/search كلمات البحث في الأخبار\n"
        "/settings الإعدادات\n"
        "/alerts on|off تنبيهات الأخبار العاجلة (/alerts 10: عشرة في اليوم على الأكثر)\n"
        "/quiet 23:00 07:00 ساعات الهدوء بلا تنبيهات\n"
        "/sources كتم مصادر الأخبار أو إعادتها\n"
        "/length short|full عناوين فقط أو مع الملخصات\n"
        "/addtopic الاسم: كلمة، كلمة، -كلمة موضوع خاص بكلماتك\n"
        "/deltopic الاسم حذف موضوع خاص\n"
        "/stop إيقاف النشرة مؤقتًا"
    ),
    "help_private": "\n/channel @القناة ربط قناة تديرها وضبطها من هنا",
    "help_group": "\n\nفي المجموعات: يقرأ الجميع، ويغيّر الإعدادات المشرفون فقط.",
    "help_operator": (
        "\n\n<b>للمشغّلين</b>\n/addfeed الرابط إضافة مصدر\n/delfeed الرقم حذف مصدر\n"
        "/feeds حالة المصادر\n/stats إحصاءات"
    ),
    "settings": (
        "⚙️ <b>إعدادات {chat}</b>\n"
        "الحالة: {state}\n"
        "المواعيد: {time} يوميًا ({tz})\n"
        "الموعد القادم: {next}\n"
        "المواضيع: {topics}\n"
        "مواضيعك الخاصة: {own}\n"
        "الطول: {length}\n"
        "التنبيهات العاجلة: {alerts}\n"
        "المصادر المكتومة: {muted}"
    ),
    "settings_target": "\n\nتضبط الآن: {chat}. للتبديل: /channel",
    "state_on": "مفعّلة ✅",
    "state_paused": "موقوفة مؤقتًا (أرسل /start للاستئناف)",
    "state_removed": "متوقفة: لم يعد بإمكاني الإرسال إلى هذه المحادثة",
    "none": "لا شيء",
    "not_scheduled": "غير محدد",
    "this_chat": "هذه المحادثة",
    "latest_header": "📰 <b>آخر العناوين{topic}</b>",
    "latest_none": "لا أخبار جديدة{topic} خلال اليومين الماضيين. جرّب لاحقًا أو اكتب /latest دون موضوع.",
    "latest_no_topic": "لا أعرف موضوعًا باسم «{name}». المواضيع المتاحة: {topics}.",
    "search_usage": "اكتب ما تبحث عنه بعد الأمر، مثل: /search أسعار النفط",
    "search_header": "🔎 <b>نتائج البحث عن «{query}»</b>",
    "search_none": "لم أجد أخبارًا فيها «{query}». جرّب كلمات أقل أو أعم.",
    "not_subscribed": "هذه المحادثة غير مشتركة بعد. أرسل /start أولًا.",
    "chat_removed": "لا أستطيع الإرسال إلى هذه المحادثة بعد أن أُزلت منها. أعد إضافتي ثم أرسل /start",
    "admins_only": "تغيير الإعدادات للمشرفين فقط. يمكنك القراءة: /latest و/search و/digest",
    "admins_only_button": "تغيير الإعدادات للمشرفين فقط.",
    "cooldown": "مهلًا، أرسل الطلب التالي بعد {seconds} ثانية حتى لا تمتلئ المجموعة.",
    "addtopic_usage": "اكتب الموضوع هكذا: /addtopic الاسم: كلمة، كلمة، -كلمة مستبعدة",
    "addtopic_created": "أُضيف الموضوع «{name}» وفُعّل في {chat}، بالكلمات: {keywords}{excluded}.",
    "addtopic_updated": "عُدّل الموضوع «{name}» في {chat}، بالكلمات: {keywords}{excluded}.",
    "addtopic_excluded": "، مع استبعاد: {words}",
    "topic_error": "{message}",
    "too_many_topics": "لكل محادثة {limit} موضوعًا خاصًا على الأكثر. احذف واحدًا بالأمر /deltopic أولًا.",
    "topic_name_taken": "«{name}» اسم موضوع أساسي. اختر اسمًا آخر لموضوعك.",
    "deltopic_usage": "اكتب اسم الموضوع بعد الأمر، مثل: /deltopic الطاقة",
    "deltopic_done": "حُذف الموضوع «{name}» من {chat}.",
    "no_such_topic": "لا يوجد موضوع باسم «{name}». راجع المواضيع في /settings",
    "builtin_topic": "«{name}» موضوع أساسي لا يُحذف؛ ألغِ اختياره من /topics",
    "bad_button": "هذا الزر قديم. أرسل الأمر من جديد.",
    "channel_usage": "اكتب اسم القناة بعد الأمر، مثل: /channel @my_channel — أو أعد توجيه منشور منها إليّ.",
    "channel_private_only": "اربط القناة من محادثة خاصة معي: افتح @{bot} وأرسل /channel @القناة",
    "channel_not_found": "لم أجد القناة {name}. تأكد من الاسم، وأضفني إليها مشرفًا ثم أعد المحاولة.",
    "not_a_channel": "«{name}» ليست قناة. لربط مجموعة أضفني إليها وأرسل /start هناك.",
    "channel_rights": "لا أستطيع ضبط القناة «{title}» بعد:\n{problems}",
    "bot_not_admin": "• أضفني مشرفًا في القناة (الإعدادات ← المشرفون).",
    "bot_cannot_post": "• أعطني صلاحية «نشر الرسائل» في القناة.",
    "user_not_admin": "• يجب أن تكون أنت مشرفًا في القناة.",
    "channel_linked": "رُبطت القناة «{title}» ✅ أوامر الإعدادات هنا تضبطها الآن، والموعد القادم {next}.",
    "target_prompt": "أي محادثة تريد ضبطها؟",
    "target_set": "تضبط الآن: {chat}. أوامر الإعدادات هنا (/topics و/time و/timezone…) تُطبّق عليها.",
    "operator_only": "هذا الأمر لمشغّلي البوت فقط. أرسل /help لرؤية ما يمكنك فعله.",
    "addfeed_usage": "اكتب رابط المصدر بعد الأمر، مثل: /addfeed https://example.com/rss",
    "feed_added": "أُضيف المصدر رقم {id}: {url}\nسيُجلب في الدورة القادمة.",
    "feed_refused": "رُفض الرابط: {reason}",
    "feed_exists": "المصدر مضاف من قبل: {url}",
    "delfeed_usage": "اكتب رقم المصدر بعد الأمر، مثل: /delfeed 3 (الأرقام في /feeds).",
    "no_such_feed": "لا يوجد مصدر رقم {id}. الأرقام في /feeds",
    "feed_removed": "حُذف المصدر رقم {id}. تبقى أخباره المخزنة.",
    "feeds_none": "لا مصادر بعد. أضف واحدًا: /addfeed الرابط",
    "feeds_header": "<b>المصادر ({count})</b>",
    "feed_line": "#{id} {status} · {articles} خبر · {url}",
    "feed_error": "   آخر خطأ ({count}×): {error}",
    "status_ok": "✅ يعمل",
    "status_failing": "⚠️ يتعثر",
    "status_disabled": "⛔ معطّل",
    "status_new": "🆕 جديد",
    "stats": (
        "📊 <b>إحصاءات اليوم</b>\n"
        "المصادر: {feeds_ok} تعمل، {feeds_failing} تتعثر، {feeds_disabled} معطّلة، {feeds_new} جديدة\n"
        "الأخبار اليوم: {articles} · القصص: {stories}\n"
        "حسب الموضوع (أخبار/قصص): {by_topic}\n"
        "المشتركون: {delivering} يستلمون، {paused} موقوفون، {deactivated} متوقفون (من {chats})\n"
        "الإرسال: {pending} بالانتظار، {failed} فشل، {sent} أُرسل اليوم"
    ),
    "unknown_command": "لا أعرف هذا الأمر. أرسل /help لرؤية الأوامر.",
    "not_a_command": "أفهم الأوامر فقط. أرسل /help لرؤيتها.",
}

_EN: dict[str, str] = {
    "internal_error": "Sorry, something went wrong on our side. Please try again shortly.",
    "welcome_new": (
        "Welcome to <b>Nashra</b> 📰\n"
        "Every day at {time} ({tz}) I will send {chat} the main Arabic news, grouped by topic.\n"
        "Pick topics with the buttons below; change the time with /time and the timezone with /timezone."
    ),
    "welcome_resumed": "The digest is back for {chat}: next one {next}. Your settings were kept.",
    "welcome_already": (
        "{chat} is already subscribed; next digest {next}. Adjust topics with the buttons below."
    ),
    "group_added": (
        "Thanks for adding me 👋 I am <b>Nashra</b>, an Arabic news digest bot.\n"
        "To start, an administrator sends /start and picks topics. More: /help"
    ),
    "topics_prompt": "Digest topics for {chat}: tap a topic to turn it on ✅ or off.",
    "topics_summary": "Digest topics for {chat}: {topics}.",
    "topics_none": "No topic chosen yet, so no digest will arrive until you pick at least one: /topics",
    "topic_on": "✅ {name}",
    "topic_off": "Removed: {name}",
    "btn_done": "Done ✔️",
    "btn_this_chat": "This chat",
    "time_usage": "Write the time after the command, e.g. /time 07:30 ({tz} time).",
    "time_set": "I will send {chat} the digest daily at {time} ({tz}). Next one: {next}.",
    "alerts_usage": (
        "I could not read “{value}”. Send /alerts on to turn breaking-news alerts on, /alerts off to "
        "turn them off, or a number from {low} to {high} for the daily maximum, e.g. /alerts 5"
    ),
    "alerts_state": "Breaking-news alerts for {chat}: {state}",
    "alerts_on_state": "on ✅, at most {cap} a day, none in quiet hours ({quiet})",
    "alerts_off_state": "off (to turn on: /alerts on)",
    "quiet_none": "no quiet hours",
    "quiet_usage": "Quiet hours now: {now}. To change: /quiet 23:00 07:00, or /quiet off.",
    "quiet_set": "Quiet hours for {chat}: {quiet} ({tz}). No alerts then; digests arrive as usual.",
    "length_usage": (
        "Send /length short for titles only or /length full for titles with summaries; you may add "
        "the stories per topic (1–{high}), e.g. /length short 5"
    ),
    "length_set": "Digest length for {chat}: {length}.",
    "length_short": "short (titles only), up to {n} stories per topic",
    "length_full": "full (titles and summaries), up to {n} stories per topic",
    "sources_prompt": "News outlets for {chat}: tap one to mute 🔇 or unmute ✅ it.\nMuted: {muted}",
    "sources_none": "No news outlets yet. Wait for the next fetch pass and try again.",
    "no_such_source": "I know no outlet called “{name}”. Outlets: {names}",
    "source_muted": "Muted “{name}” for {chat}: it disappears from digests, alerts, /latest and /search.",
    "source_unmuted": "“{name}” is back for {chat}.",
    "source_muted_short": "🔇 muted: {name}",
    "source_unmuted_short": "✅ back: {name}",
    "stats_chart": "📊 Nashra: articles by topic, feed health and messages sent (last 7 days)",
    "tz_prompt": "Choose the timezone for {chat}, or type it after the command, e.g. /timezone Africa/Cairo",
    "tz_set": "{chat} now uses {tz}. Next digest: {next}.",
    "schedule_error": "{message}",
    "stop_done": "Paused the digest for {chat}. Settings are kept; send /start to resume.",
    "stop_already": "The digest is already paused for {chat}. Send /start to resume.",
    "help": (
        "<b>Nashra</b>: a short daily digest of Arabic news from trusted outlets, by the topics you pick.\n\n"
        "/start subscribe or resume\n"
        "/topics choose topics\n"
        "/time 07:00 19:00 edition times (up to 4 a day)\n"
        "/timezone Africa/Cairo timezone\n"
        "/digest the digest now\n"
        "/latest [topic] latest headlines\n"
        "/search words search the news\n"
        "/settings settings\n"
        "/alerts on|off breaking-news alerts (/alerts 10: at most ten a day)\n"
        "/quiet 23:00 07:00 quiet hours without alerts\n"
        "/sources mute or unmute outlets\n"
        "/length short|full titles only, or with summaries\n"
        "/addtopic NAME: word, word, -word your own keyword topic\n"
        "/deltopic NAME delete one of your topics\n"
        "/stop pause the digest"
    ),
    "help_private": "\n/channel @channel link a channel you run and set it up from here",
    "help_group": "\n\nIn groups everyone can read; only administrators change settings.",
    "help_operator": (
        "\n\n<b>Operators</b>\n/addfeed URL add a feed\n/delfeed ID remove a feed\n"
        "/feeds feed status\n/stats statistics"
    ),
    "settings": (
        "⚙️ <b>Settings of {chat}</b>\n"
        "Status: {state}\n"
        "Times: {time} daily ({tz})\n"
        "Next digest: {next}\n"
        "Topics: {topics}\n"
        "Your own topics: {own}\n"
        "Length: {length}\n"
        "Breaking-news alerts: {alerts}\n"
        "Muted outlets: {muted}"
    ),
    "settings_target": "\n\nYou are configuring: {chat}. To switch: /channel",
    "state_on": "active ✅",
    "state_paused": "paused (send /start to resume)",
    "state_removed": "stopped: I can no longer post to this chat",
    "none": "none",
    "not_scheduled": "not scheduled",
    "this_chat": "this chat",
    "latest_header": "📰 <b>Latest headlines{topic}</b>",
    "latest_none": "No news{topic} in the last two days. Try later, or /latest without a topic.",
    "latest_no_topic": "I know no topic called “{name}”. Topics: {topics}.",
    "search_usage": "Write what you are looking for after the command, e.g. /search oil prices",
    "search_header": "🔎 <b>Results for “{query}”</b>",
    "search_none": "No news found for “{query}”. Try fewer or more general words.",
    "not_subscribed": "This chat is not subscribed yet. Send /start first.",
    "chat_removed": "I can no longer post to this chat since I was removed. Add me again, then send /start.",
    "admins_only": "Only administrators can change settings. Everyone can read: /latest, /search, /digest",
    "admins_only_button": "Only administrators can change settings.",
    "cooldown": "Please wait {seconds} seconds before the next request, so the group is not flooded.",
    "addtopic_usage": "Write the topic like this: /addtopic NAME: word, word, -excluded word",
    "addtopic_created": "Added the topic “{name}” to {chat} and turned it on, with: {keywords}{excluded}.",
    "addtopic_updated": "Updated the topic “{name}” of {chat}, with: {keywords}{excluded}.",
    "addtopic_excluded": ", excluding: {words}",
    "topic_error": "{message}",
    "too_many_topics": "A chat can have at most {limit} own topics. Delete one with /deltopic first.",
    "topic_name_taken": "“{name}” is a built-in topic. Choose another name for yours.",
    "deltopic_usage": "Write the topic's name after the command, e.g. /deltopic Energy",
    "deltopic_done": "Deleted the topic “{name}” from {chat}.",
    "no_such_topic": "There is no topic called “{name}”. See the topics in /settings",
    "builtin_topic": "“{name}” is a built-in topic and cannot be deleted; turn it off in /topics",
    "bad_button": "This button is outdated. Please send the command again.",
    "channel_usage": (
        "Write the channel after the command, e.g. /channel @my_channel — or forward me a post from it."
    ),
    "channel_private_only": (
        "Link channels from a private chat with me: open @{bot} and send /channel @channel"
    ),
    "channel_not_found": (
        "I could not find the channel {name}. Check the name, add me as an admin, and try again."
    ),
    "not_a_channel": "“{name}” is not a channel. For a group, add me there and send /start.",
    "channel_rights": "I cannot set up the channel “{title}” yet:\n{problems}",
    "bot_not_admin": "• Add me as an administrator of the channel (Settings → Administrators).",
    "bot_cannot_post": "• Give me the “Post messages” right in the channel.",
    "user_not_admin": "• You must be an administrator of the channel yourself.",
    "channel_linked": (
        "Linked the channel “{title}” ✅ Settings commands here now apply to it; next digest {next}."
    ),
    "target_prompt": "Which chat do you want to configure?",
    "target_set": (
        "You are configuring: {chat}. Settings commands here (/topics, /time, /timezone…) apply to it."
    ),
    "operator_only": "This command is for the bot's operators. Send /help to see what you can do.",
    "addfeed_usage": "Write the feed URL after the command, e.g. /addfeed https://example.com/rss",
    "feed_added": "Added feed #{id}: {url}\nIt will be fetched in the next pass.",
    "feed_refused": "URL refused: {reason}",
    "feed_exists": "This feed is already added: {url}",
    "delfeed_usage": "Write the feed number after the command, e.g. /delfeed 3 (numbers in /feeds).",
    "no_such_feed": "There is no feed #{id}. Numbers are in /feeds",
    "feed_removed": "Removed feed #{id}. Its stored articles are kept.",
    "feeds_none": "No feeds yet. Add one: /addfeed URL",
    "feeds_header": "<b>Feeds ({count})</b>",
    "feed_line": "#{id} {status} · {articles} articles · {url}",
    "feed_error": "   last error ({count}×): {error}",
    "status_ok": "✅ ok",
    "status_failing": "⚠️ failing",
    "status_disabled": "⛔ disabled",
    "status_new": "🆕 new",
    "stats": (
        "📊 <b>Today's statistics</b>\n"
        "Feeds: {feeds_ok} ok, {feeds_failing} failing, {feeds_disabled} disabled, {feeds_new} new\n"
        "Articles today: {articles} · stories: {stories}\n"
        "By topic (articles/stories): {by_topic}\n"
        "Subscribers: {delivering} receiving, {paused} paused, {deactivated} stopped (of {chats})\n"
        "Delivery: {pending} pending, {failed} failed, {sent} sent today"
    ),
    "unknown_command": "I don't know this command. Send /help to see the commands.",
    "not_a_command": "I only understand commands. Send /help to see them.",
}
