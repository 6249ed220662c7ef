"""Synthetic corpora for the speed benchmark, in the corpus format, deterministic by seed.

The text comes from our own templates and word lists: readers' stories in the
chatty lower-case style of real comment threads, the author's replies in plain
advice prose, articles split into ``##`` sections. Topic words repeat the way
they do on an advice site (every thread has a husband, a wife or an ex in it);
everyday words and a long tail of rarer words (names, places, made-up brand and
street names) give the term dictionary a realistic size. The same seed always
gives the same corpus and the same queries.

    python -m benchmarks.generate OUT --comments 10000 [--articles 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AUTHOR = "Ellis Marlowe"


# -- word lists ----------------------------------------------------------------------------
def _alts(text: str) -> list[str]:
    """Return the '|'-separated phrases of ``text``, line breaks read as spaces."""
    return [" ".join(p.split()) for p in text.split("|")]


def _words(text: str) -> list[str]:
    """Return the words of ``text``."""
    return text.split()


PARTNERS = [
    ("husband", "he", "his", "him"),
    ("wife", "she", "her", "her"),
    ("boyfriend", "he", "his", "him"),
    ("girlfriend", "she", "her", "her"),
    ("partner", "he", "his", "him"),
    ("partner", "she", "her", "her"),
    ("fiance", "he", "his", "him"),
    ("fiancee", "she", "her", "her"),
    ("ex", "he", "his", "him"),
    ("ex", "she", "her", "her"),
    ("bf", "he", "his", "him"),
    ("gf", "she", "her", "her"),
    ("hubby", "he", "his", "him"),
    ("dh", "he", "his", "him"),
]
AGO = _alts("""last night|on sunday|on saturday|two weeks ago|three weeks ago|a month ago|six weeks
ago|two months ago|in march|after christmas|three days ago|last friday|over the summer|at
new year|five weeks ago|yesterday|this morning|ten days ago|in the spring|half a year ago""")
DURATION = _alts("""3 years|eleven years|eighteen months|almost a decade|two years|six months|14
years|four years|seven years|nine months|twenty years|a year and a half|five years|eight
months|twelve years|since high school|since uni|thirty years""")
EVENT = _alts("""a huge fight about money|his mothers birthday party|her sisters wedding|i found the
messages|we lost the baby|the move for his job|our anniversary dinner|a weekend away with
her friends|i lost my job|the christmas party at work|a row about the kids|the holiday in
spain|his fortieth|my dad died|we bought the house|she started the new job|the second
miscarriage|a night out with the lads|her friends hen do|the argument about his drinking|we
got back from the honeymoon|my surgery|the baby was born|his promotion|a stupid argument
about the dishes|the trip to see my parents|she met someone at the gym|we got engaged""")
FEEL = _alts("""devastated|numb|angry|confused|lost|scared|exhausted|heartbroken|relieved|guilty|
anxious|lonely|humiliated|sick to my stomach|hopeless|stupid|desperate|furious|empty|
ashamed|jealous|betrayed|frozen|paralysed|sad|worn out|hurt|rejected""")
OTHER = _alts("""a woman from work|his ex|someone from the gym|an old friend from school|a guy she
met online|her coworker|a girl from his football team|her personal trainer|his best friends
wife|someone on facebook|a woman he met on a work trip|her old boyfriend|a guy from the
running club|the neighbour|his secretary|someone from church""")
DEVICE = _alts("phone|laptop|ipad|facebook|email|instagram|whatsapp|bank statements|car")
ACTION = _alts("""wait it out|text him|move out|go no contact|ask for counselling|tell the kids|file
for divorce|give her space|fight for this|let go|call her parents|see a lawyer|forgive
him|end it|write her a letter|ask him to leave|try again|move on|stop calling|tell his
family|confront her|go to couples therapy|sell the house|take the ring off|block
him|unblock her|wait for her|give him an ultimatum|sleep in the spare room""")
PLACE = _alts("""her sisters|his mums|a flat across town|his friends couch|a hotel|her parents
house|his brothers|a rented room|her best friends place|his van|a studio near work|the
spare room|his parents in the country""")
KIDS = _alts("""two kids|a baby on the way|no kids|a 4 year old|three boys|her daughter from
before|twins|a toddler|two teenagers|a little girl|his son from his first marriage|a dog and
no kids""")
SPACE = _alts("space|time apart|a break|time to think|room to breathe|some distance")
PURSUE = _alts("""texting|calling|begging|messaging|crying|pleading|turning up at her work|writing
letters|checking his facebook|asking her friends about her|driving past the house|sending
flowers|emailing|leaving voicemails""")
THINGS = _alts("""the house|the dog|the car|money|the mortgage|the kids|her mother|his drinking|his
job|the gym|her phone|the holidays|sex|housework|the wedding|christmas|his friends|her
friends|the bills|his gaming|her hours|church|his temper|the in laws|our savings""")
EVERYDAY = _words("""walk dog kitchen garden weekend morning evening coffee dinner lunch breakfast
work office boss shift drive car bus train school homework football match gym run swim
holiday beach camping tent caravan cottage city town village street road shop supermarket
market money bills rent mortgage loan debt savings budget salary bonus promotion job career
degree course exam teacher doctor nurse hospital surgery appointment medication therapy
counsellor session notebook journal diary letter message text email call voicemail photo
picture album birthday anniversary wedding party christmas easter summer winter autumn
spring rain snow sunshine weather tv film movie series book podcast music song concert band
guitar piano dance cooking baking recipe pizza pasta curry takeaway wine beer drink pub bar
club friend neighbour cousin aunt uncle brother sister mother father mum dad grandmother
grandfather nephew niece baby toddler teenager son daughter puppy cat horse farm field
river lake mountain hill forest park bench cafe restaurant hotel airport flight passport
suitcase bedroom sofa couch bed pillow blanket laundry dishes hoover bathroom shower
garage shed fence gate window door key lock alarm clock calendar plan list promise
apology argument silence distance routine habit chore errand""")
ADJ = _words("""quiet cold distant tired busy stressed happy lovely kind funny gentle stubborn
proud shy loud moody careful honest calm warm patient clingy needy jealous cheerful grumpy
selfish generous lazy sweet bitter strange normal awkward sudden slow""")
VERB_PAST = _words("""cooked cleaned watched walked drove visited called texted argued laughed
cried shouted slept worked painted fixed bought sold moved packed unpacked planned booked
cancelled forgot remembered ignored noticed asked answered promised apologised
left stayed waited""")
FIRST_NAMES = _words("""Anna Ben Chloe Dan Emma Finn Grace Harry Isla Jack Kate Liam Mia Noah Olivia
Paul Quinn Rosa Sam Tara Umar Vera Will Xena Yusuf Zoe Amir Bella Carl Dina Ethan Fiona Gus
Hana Ivan Jade Karl Lena Marco Nina Omar Pia Raj Sara Tom Una Victor Wendy Yara Zack Lorna
Mike Sue Jen Rob Kev Pete Steph Gemma Lisa Mark Dave Chris Karen Sarah Laura Tony Helen Nick
Becky Craig Donna Gary Julie Keith Lynn Neil Pam Russ Shaz Trish Vince Wayne""")
HANDLES = _alts("""sad in ohio|lost girl|hopeful|anon|still waiting|confused guy|broken|day 12|
trying|throwaway|mum of two|new here|the one who stayed|no name|worried wife|left behind|
hanging on|dad of three|not ok|learning""")
TOPICS = _alts("""partner leaves|the first month|no contact|asking for space|separation|divorce|
affair|rebuilding trust|engagement|children|long distance|anger|silence|jealousy|money
fights|in laws|second chances|reconciliation|counselling|moving in|moving out|weddings|
breakups|dating again|loneliness|clingers and avoiders|the power struggle|listening|
apologies|forgiveness|boundaries|texting|social media|family holidays|grief|new babies|
step families|drinking|work stress|sex and closeness""")
HEADINGS = _alts("""What not to do|Why it happens|The first week|How long to wait|What to say|What
to tell the kids|When it is over|Stop pursuing|One calm message|Looking after yourself|
Money and the house|If they come back|When they will not talk|Ending it means ending
it|Questions readers ask|The fear response|Keeping your word|Reliable membership|Starting
again|A letter that works|Counselling together|Counselling alone|Trust is earned
back|What the other side feels|Signs it is working|Signs it is not|The long
middle|Friends and family|Living apart|Deciding to stay|Deciding to go""")

STORY = [
    "my {p} {left} {ago} after {event}",
    "we were together {dur} and we have {kids}",
    "{he} moved to {place} and says {he} needs {space}",
    "{he} says {he} loves me but {he} is not in love with me anymore",
    "i found {his} {device} and saw messages to {other}",
    "i keep {pursue} even though everyone tells me to stop",
    "should i {action} or {action2}",
    "how long should i wait before i {action}",
    "i feel {feel} and {feel2} all the time",
    "{he} wont talk to me about {thing} and shuts down every time",
    "everything was fine until {event}",
    "i cant sleep and i cant eat and i check {his} {device} every hour",
    "my friends say i should {action} but i still love {him}",
    "{he} blocked me on {device} after i sent {num} messages in one night",
    "we fight about {thing} and {thing2} every single week",
    "{he} wants to try a trial separation and i am {feel}",
    "{he} admitted to an affair with {other} {ago}",
    "our counsellor says we need to {action} first",
    "is there any hope for us or am i kidding myself",
    "i dont know if i should {action} or just give {him} time",
    "{he} said {he} needs {space} to figure out what {he} wants",
    "the kids keep asking when {he} is coming home",
    "i begged {him} to come back and {he} just looked at me",
    "{he} is already seeing {other} and posting photos on {device}",
    "i was the clingy one and {he} was always the one pulling away",
    "{he} went completely silent on me {ago} and i have no idea why",
    "we got married {ago2} and now {he} wants a divorce",
    "{his} family blames me for {event}",
    "i read your article about {topic} and it sounded exactly like us",
    "please help i am {feel} and i dont know what to do",
    "{he} texts me every few days just to ask about {thing}",
    "we live together but sleep in separate rooms since {event}",
    "i did everything on your panic list in the first week",
    "{he} says {he} cant trust me after i lied about {thing}",
    "i want {him} back but i also want {him} to change",
]
STORY_FILLER = [
    "we used to {verb_past} together every {day}",
    "my {relative} says {he} was always {adj}",
    "work has been {adj} since {season}",
    "{name} from my {place2} told me to write here",
    "the {everyday} and the {everyday2} remind me of {him}",
    "we met at a {everyday} in {tail} {num2} years ago",
    "i {verb_past} the {everyday} on my own this {day}",
    "{he} took the {everyday} and left the {everyday2}",
    "i went back to {tail} for the {everyday} and cried in the car",
    "{he} was always {adj} about the {everyday}",
]
REPLY = [
    "stop {pursue} today, completely",
    "give {him} {dur2} of quiet and then send one calm message",
    "the question is not whether {he} loves you but whether {he} can feel safe around you",
    "write down what your part in this was, honestly, before you talk again",
    "see a counsellor on your own first; you need somewhere to put all of this",
    "you dont owe {him} an answer on {his} schedule",
    "the kids need to hear that none of this is their fault",
    "a partner who is chased runs faster, that is the fear response doing its job",
    "be the easiest conversation {he} has all week",
    "dont argue the case, nobody was ever argued back into love",
    "keep your word on the small things, {thing} included",
    "if {he} comes back, let it be slow and let {him} lead",
    "read the section on {topic}, it was written for exactly this",
    "an affair that is properly over looks different from one that is paused",
    "you can be kind and still keep the door shut",
    "eat something three times a day and walk every day",
    "it is not too late, but it is not up to you alone",
    "ask {him} what {he} needs, then listen until {he} feels heard",
    "the silence is not punishment, it is {him} not knowing what to say",
    "decide what you will do, not what {he} must do",
]
ADVICE = REPLY + [
    "most people do the most damage in the first month, because they are frightened",
    "reliable membership means being someone who can be counted on when nobody keeps score",
    "pursuit comes in loud forms and sneaky forms, and they all say the same thing",
    "the one who left has usually been leaving for a long time",
    "trust comes back through small promises kept, one after another",
    "a break works when both people agree its shape: how long, how much contact, what for",
    "anger is usually fear wearing armour",
    "the clinger reaches and the avoider backs off, and each makes the other worse",
    "children cope with separation far better than with a war between their parents",
    "there is a difference between someone who stops chasing and someone who slams the door",
]
DAYS = _words("monday tuesday wednesday thursday friday saturday sunday weekend")
SEASONS = _alts("christmas|the summer|the spring|easter|january|last autumn|the move")
RELATIVES = _alts("mum|dad|sister|brother|best friend|therapist|aunt|boss|neighbour")
PLACES2 = _alts("work|church|the gym|book club|the school gate|the running club|choir")
NUMS = _words("two three four five six seven eight ten twelve fifteen twenty thirty forty")
LEFT = _alts("left me|walked out|moved out|broke up with me|ended it|packed a bag|dumped me")
OPENERS = [
    "{name}, I am so sorry.",
    "{name}, thank you for writing.",
    "{name}, this is hard.",
    "{name}, you are not crazy.",
    "{name}, breathe.",
    "{name}, I hear you.",
    "{name}, good for you for asking.",
    "{name}, this happens more than you think.",
]

_SYLLABLES = _words(
    "ba be bi bo bu ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re "
    "ri ro ru sa se si so su ta te ti to tu va ve vi vo vu dor fen gar hal mir sel tor "
    "wen bry cas del fin gil han jor kel lin mar nor pel quin ros ster thal vin wick "
    "ford ton by ham ley wood field brook"
)


def _tail_words(rng: random.Random, n: int) -> list[str]:
    """Return ``n`` distinct made-up words: the long tail of names, places and brands."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 4))))
        if len(word) > 3:
            seen[word] = None
    return list(seen)


class Writer:
    """Writes stories, replies, articles and queries from the templates, by seed."""

    def __init__(self, seed: int, tail: int = 30000):
        self.rng = random.Random(seed)
        words = _tail_words(random.Random(1), tail)  # the same tail whatever the seed
        self.tail = words
        self.tail_cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(words))))
        self.every_cum = list(
            itertools.accumulate(1.0 / (r + 1) ** 0.7 for r in range(len(EVERYDAY)))
        )

    def _tailword(self) -> str:
        return self.rng.choices(self.tail, cum_weights=self.tail_cum)[0]

    def _everyday(self) -> str:
        return self.rng.choices(EVERYDAY, cum_weights=self.every_cum)[0]

    def fill(self, template: str, who: tuple[str, str, str, str], name: str = "") -> str:
        """Fill one template's slots."""
        r = self.rng
        p, he, his, him = who
        values = {
            "p": p,
            "he": he,
            "his": his,
            "him": him,
            "left": r.choice(LEFT),
            "ago": r.choice(AGO),
            "ago2": r.choice(AGO),
            "event": r.choice(EVENT),
            "dur": r.choice(DURATION),
            "dur2": r.choice(("two weeks", "a month", "ten days", "three weeks", "a few weeks")),
            "kids": r.choice(KIDS),
            "place": r.choice(PLACE),
            "space": r.choice(SPACE),
            "device": r.choice(DEVICE),
            "other": r.choice(OTHER),
            "pursue": r.choice(PURSUE),
            "action": r.choice(ACTION),
            "action2": r.choice(ACTION),
            "feel": r.choice(FEEL),
            "feel2": r.choice(FEEL),
            "thing": r.choice(THINGS),
            "thing2": r.choice(THINGS),
            "num": r.choice(NUMS),
            "num2": r.choice(NUMS),
            "topic": r.choice(TOPICS),
            "verb_past": r.choice(VERB_PAST),
            "day": r.choice(DAYS),
            "relative": r.choice(RELATIVES),
            "adj": r.choice(ADJ),
            "season": r.choice(SEASONS),
            "name": name or r.choice(FIRST_NAMES),
            "place2": r.choice(PLACES2),
            "everyday": self._everyday(),
            "everyday2": self._everyday(),
            "tail": self._tailword().capitalize(),
        }
        return template.format(**values)

    def who(self) -> tuple[str, str, str, str]:
        """Pick the partner a story is about."""
        return self.rng.choice(PARTNERS)

    def _sentences(self, n_words: int, who, pools: list[tuple[list[str], float]], name="") -> str:
        r = self.rng
        out: list[str] = []
        words = 0
        while words < n_words:
            pool = r.choices([p for p, _ in pools], weights=[w for _, w in pools])[0]
            s = self.fill(r.choice(pool), who, name)
            if r.random() < 0.12:
                s += f" and the {self._everyday()} {r.choice(('thing', 'stuff', 'part'))} with {self._tailword().capitalize()}"
            out.append(s)
            words += len(s.split())
        return out

    def story(self, n_words: int) -> str:
        """Return a reader's story in the casual style: lower case, few apostrophes."""
        r = self.rng
        who = self.who()
        sents = self._sentences(n_words, who, [(STORY, 0.7), (STORY_FILLER, 0.3)])
        sents = [s + r.choice((".", ".", ".", "?", "!", "...", ".")) for s in sents]
        if r.random() < 0.3:
            sents = [s[0].upper() + s[1:] for s in sents]
        return _paragraphs(r, sents)

    def reply(self, n_words: int, name: str, who) -> str:
        """Return an author reply: an opener with the reader's name, then advice sentences."""
        r = self.rng
        sents = self._sentences(n_words, who, [(REPLY, 0.85), (STORY_FILLER, 0.15)], name)
        sents = [s[0].upper() + s[1:] + "." for s in sents]
        return _paragraphs(r, [self.fill(r.choice(OPENERS), who, name), *sents])

    def section(self, n_words: int) -> str:
        """Return the body of an article section."""
        r = self.rng
        who = self.who()
        sents = self._sentences(n_words, who, [(ADVICE, 0.8), (STORY, 0.1), (STORY_FILLER, 0.1)])
        return _paragraphs(r, [s[0].upper() + s[1:] + "." for s in sents])

    def query(self) -> str:
        """Return a reader-style query of 8 to 25 words, now and then with a typo."""
        r = self.rng
        who = self.who()
        n = r.randint(8, 25)
        words = " ".join(self._sentences(n, who, [(STORY, 0.85), (STORY_FILLER, 0.15)])).split()
        words = words[:n]
        if r.random() < 0.1:
            i = max(range(len(words)), key=lambda k: (len(words[k]), k))
            w = words[i]
            if len(w) >= 5:
                j = r.randint(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        return " ".join(words)

    def length(self, median: int, lo: int, hi: int) -> int:
        """Return a word count from a log-normal spread around ``median``."""
        return max(lo, min(hi, int(self.rng.lognormvariate(0, 0.6) * median)))


def _paragraphs(r: random.Random, sents: list[str]) -> str:
    paras, cur = [], []
    for s in sents:
        cur.append(s)
        if len(cur) >= 3 and r.random() < 0.35:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return "\n\n".join(paras)


def _reader(r: random.Random) -> str:
    if r.random() < 0.2:
        return r.choice(HANDLES)
    name = r.choice(FIRST_NAMES)
    return name if r.random() < 0.7 else f"{name.lower()} {r.choice('abcdefghjklmnprstw')}"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _block(text: str, indent: str) -> str:
    return "\n".join(indent + line if line else "" for line in text.split("\n"))


def _tag_ids() -> list[str]:
    text = (REPO / "corpus" / "tags.yaml").read_text("utf-8")
    return re.findall(r"^  - id: ([a-z0-9-]+)", text, re.M)


def comment_yaml(c: dict) -> str:
    """Return one comment as an item of a comments file."""
    lines = [f"  - id: {_q(c['id'])}"]
    if c.get("parent"):
        lines.append(f"    parent: {_q(c['parent'])}")
    lines.append(f"    author: {_q(c['author'])}")
    lines.append(f"    date: {c['date']}")
    lines.append("    body: |")
    lines.append(_block(c["body"], "      "))
    if c.get("tags"):
        lines.append(f"    tags: [{', '.join(c['tags'])}]")
    return "\n".join(lines) + "\n"


def _thread(w: Writer, start: dt.datetime, next_id, tag_ids: list[str], budget: int) -> list[dict]:
    """Return one thread: a story, maybe the author's reply, maybe follow-ups and other readers."""
    r = w.rng
    who = w.who()
    name = _reader(r)
    t = start
    tags = r.sample(tag_ids, r.choice((1, 1, 2))) if r.random() < 0.3 else []
    out = [
        {
            "id": next_id(),
            "parent": None,
            "author": name,
            "date": t.date().isoformat(),
            "body": w.story(w.length(70, 8, 400)),
            "tags": tags,
        }
    ]
    last = out[0]["id"]
    while len(out) < budget:
        roll = r.random()
        t += dt.timedelta(days=r.randint(0, 12))
        if roll < 0.42:
            c = {
                "id": next_id(),
                "parent": last,
                "author": r.choice((AUTHOR, AUTHOR, "Ellis")),
                "date": t.date().isoformat(),
                "body": w.reply(w.length(60, 15, 300), name, who),
            }
        elif roll < 0.62:
            c = {
                "id": next_id(),
                "parent": last,
                "author": name,
                "date": t.date().isoformat(),
                "body": w.story(w.length(45, 6, 250)),
            }
        elif roll < 0.75:
            c = {
                "id": next_id(),
                "parent": out[0]["id"],
                "author": _reader(r),
                "date": t.date().isoformat(),
                "body": w.story(w.length(40, 6, 200)),
            }
        else:
            break
        out.append(c)
        last = c["id"]
    return out


def _article(w: Writer, slug: str, date: dt.date, tag_ids: list[str]) -> str:
    r = w.rng
    topic = r.choice(TOPICS)
    title = f"{topic.capitalize()}: {r.choice(HEADINGS).lower()}"
    heads = r.sample(HEADINGS, r.randint(4, 8))
    parts = [
        "---",
        f"title: {_q(title)}",
        f"date: {date.isoformat()}",
        f"tags: [{', '.join(r.sample(tag_ids, r.randint(1, 3)))}]",
        f"summary: {_q(w.section(25).splitlines()[0])}",
        "---",
        w.section(w.length(120, 40, 300)),
        "",
    ]
    for h in heads:
        parts += [f"## {h}", "", w.section(w.length(180, 60, 500)), ""]
    return "\n".join(parts)


def generate(out: Path, comments: int, articles: int = 300, seed: int = 7) -> dict:
    """Write a corpus of ``articles`` articles and about ``comments`` comments to ``out``."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "articles").mkdir(parents=True)
    (out / "comments").mkdir()
    shutil.copy(REPO / "corpus" / "tags.yaml", out / "tags.yaml")
    (out / "site.yaml").write_text(
        f"title: Staying Close (synthetic)\nauthor: {AUTHOR}\nauthor_aliases:\n  - Ellis\n", "utf-8"
    )
    w = Writer(seed)
    r = w.rng
    tag_ids = _tag_ids()
    # popularity is skewed and independent of age, as on a real site
    weights = [1.0 / (k + 1) ** 0.6 for k in range(articles)]
    r.shuffle(weights)
    total_w = sum(weights)
    quota = [max(1, round(comments * x / total_w)) for x in weights]
    quota[max(range(articles), key=lambda k: quota[k])] += comments - sum(quota)
    counter = itertools.count(1)

    def next_id() -> str:
        return f"c-{next(counter):07d}"

    first = dt.date(2005, 1, 1)
    written = 0
    for k in range(articles):
        slug = f"article-{k + 1:04d}"
        date = first + dt.timedelta(days=int(k * 6900 / articles) + r.randint(0, 10))
        (out / "articles" / f"{slug}.md").write_text(_article(w, slug, date, tag_ids), "utf-8")
        items: list[dict] = []
        t = dt.datetime.combine(date, dt.time()) + dt.timedelta(days=1)
        while len(items) < quota[k]:
            t += dt.timedelta(hours=r.randint(1, 60))
            items += _thread(w, t, next_id, tag_ids, min(6, quota[k] - len(items)))
        written += len(items)
        text = f"article: {slug}\ncomments:\n" + "".join(comment_yaml(c) for c in items)
        (out / "comments" / f"{slug}.yaml").write_text(text, "utf-8")
    return {"articles": articles, "comments": written, "seed": seed, "next_id": next(counter)}


def add_comments(corpus: Path, n: int, seed: int = 11, first_id: int = 9_000_001) -> list[str]:
    """Append ``n`` new comments (stories and replies) to the newest articles; return their ids."""
    corpus = Path(corpus)
    w = Writer(seed)
    tag_ids = _tag_ids()
    slugs = sorted(p.stem for p in (corpus / "articles").glob("*.md"))[-5:]
    counter = itertools.count(first_id)

    def next_id() -> str:
        return f"c-{next(counter):07d}"

    ids: list[str] = []
    per = {s: [] for s in slugs}
    k = 0
    t = dt.datetime(2030, 1, 1)
    while len(ids) < n:
        t += dt.timedelta(hours=3)
        thread = _thread(w, t, next_id, tag_ids, min(4, n - len(ids)))
        per[slugs[k % len(slugs)]] += thread
        ids += [c["id"] for c in thread]
        k += 1
    for slug, items in per.items():
        if items:
            with open(corpus / "comments" / f"{slug}.yaml", "a", encoding="utf-8") as f:
                f.write("".join(comment_yaml(c) for c in items))
    return ids


def queries(n: int, seed: int = 3) -> list[str]:
    """Return ``n`` reader-style queries of 8 to 25 words (a different seed from the corpus)."""
    w = Writer(seed)
    return [w.query() for _ in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--comments", type=int, default=10000)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    info = generate(args.out, args.comments, args.articles, args.seed)
    print(f"{args.out}: {info['articles']} articles, {info['comments']} comments")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
