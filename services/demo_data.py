"""Word lists and places for generating realistic demo listings (see seed_demo)."""

# Real towns and cities with the coordinates of their centres, the postcode area
# and the highest district number in use there, and a rough weight for how many
# listings a place of that size would have.
# (name, region, latitude, longitude, postcode area, highest district, weight)
TOWNS = [
    ("London", "Greater London", 51.5074, -0.1278, "N", 22, 30),
    ("London", "Greater London", 51.4613, -0.1156, "SW", 20, 20),
    ("London", "Greater London", 51.5390, -0.0426, "E", 18, 15),
    ("Birmingham", "West Midlands", 52.4862, -1.8904, "B", 45, 12),
    ("Manchester", "Greater Manchester", 53.4808, -2.2426, "M", 40, 12),
    ("Leeds", "West Yorkshire", 53.8008, -1.5491, "LS", 29, 10),
    ("Glasgow", "Scotland", 55.8642, -4.2518, "G", 53, 9),
    ("Liverpool", "Merseyside", 53.4084, -2.9916, "L", 38, 8),
    ("Bristol", "South West England", 51.4545, -2.5879, "BS", 16, 8),
    ("Sheffield", "South Yorkshire", 53.3811, -1.4701, "S", 36, 8),
    ("Edinburgh", "Scotland", 55.9533, -3.1883, "EH", 17, 8),
    ("Newcastle upon Tyne", "Tyne and Wear", 54.9783, -1.6178, "NE", 15, 6),
    ("Nottingham", "East Midlands", 52.9548, -1.1581, "NG", 11, 6),
    ("Leicester", "East Midlands", 52.6369, -1.1398, "LE", 5, 5),
    ("Cardiff", "Wales", 51.4816, -3.1791, "CF", 24, 6),
    ("Belfast", "Northern Ireland", 54.5973, -5.9301, "BT", 17, 6),
    ("Brighton", "East Sussex", 50.8225, -0.1372, "BN", 3, 6),
    ("Coventry", "West Midlands", 52.4068, -1.5197, "CV", 6, 4),
    ("Bradford", "West Yorkshire", 53.7960, -1.7594, "BD", 15, 4),
    ("Hull", "East Yorkshire", 53.7676, -0.3274, "HU", 9, 3),
    ("Stoke-on-Trent", "Staffordshire", 53.0027, -2.1794, "ST", 6, 3),
    ("Wolverhampton", "West Midlands", 52.5862, -2.1288, "WV", 14, 3),
    ("Derby", "East Midlands", 52.9225, -1.4746, "DE", 24, 3),
    ("Southampton", "Hampshire", 50.9097, -1.4044, "SO", 19, 3),
    ("Portsmouth", "Hampshire", 50.8198, -1.0880, "PO", 6, 3),
    ("Plymouth", "Devon", 50.3755, -4.1427, "PL", 9, 3),
    ("Exeter", "Devon", 50.7184, -3.5339, "EX", 4, 2),
    ("Reading", "Berkshire", 51.4543, -0.9781, "RG", 6, 3),
    ("Oxford", "Oxfordshire", 51.7520, -1.2577, "OX", 4, 4),
    ("Cambridge", "Cambridgeshire", 52.2053, 0.1218, "CB", 5, 4),
    ("Norwich", "Norfolk", 52.6309, 1.2974, "NR", 7, 3),
    ("York", "North Yorkshire", 53.9600, -1.0873, "YO", 32, 3),
    ("Aberdeen", "Scotland", 57.1497, -2.0943, "AB", 25, 3),
    ("Dundee", "Scotland", 56.4620, -2.9707, "DD", 5, 2),
    ("Inverness", "Scotland", 57.4778, -4.2247, "IV", 3, 1),
    ("Stirling", "Scotland", 56.1165, -3.9369, "FK", 9, 1),
    ("Swansea", "Wales", 51.6214, -3.9436, "SA", 9, 2),
    ("Newport", "Wales", 51.5842, -2.9977, "NP", 20, 2),
    ("Wrexham", "Wales", 53.0466, -2.9925, "LL", 14, 1),
    ("Bath", "Somerset", 51.3758, -2.3599, "BA", 2, 2),
    ("Canterbury", "Kent", 51.2802, 1.0789, "CT", 2, 2),
    ("Ipswich", "Suffolk", 52.0567, 1.1482, "IP", 4, 2),
    ("Colchester", "Essex", 51.8959, 0.8919, "CO", 4, 2),
    ("Lincoln", "Lincolnshire", 53.2307, -0.5406, "LN", 6, 2),
    ("Peterborough", "Cambridgeshire", 52.5695, -0.2405, "PE", 7, 2),
    ("Milton Keynes", "Buckinghamshire", 52.0406, -0.7594, "MK", 15, 2),
    ("Luton", "Bedfordshire", 51.8787, -0.4200, "LU", 4, 2),
    ("Sunderland", "Tyne and Wear", 54.9069, -1.3838, "SR", 6, 2),
    ("Middlesbrough", "North Yorkshire", 54.5742, -1.2350, "TS", 8, 2),
    ("Bournemouth", "Dorset", 50.7192, -1.8808, "BH", 11, 2),
    ("Gloucester", "Gloucestershire", 51.8642, -2.2382, "GL", 4, 2),
    ("Worcester", "Worcestershire", 52.1936, -2.2216, "WR", 5, 1),
    ("Chester", "Cheshire", 53.1934, -2.8931, "CH", 4, 2),
    ("Preston", "Lancashire", 53.7632, -2.7031, "PR", 5, 2),
    ("Lancaster", "Lancashire", 54.0466, -2.8007, "LA", 2, 1),
    ("Carlisle", "Cumbria", 54.8925, -2.9329, "CA", 3, 1),
    ("Huddersfield", "West Yorkshire", 53.6458, -1.7850, "HD", 5, 2),
    ("Wakefield", "West Yorkshire", 53.6833, -1.4977, "WF", 4, 1),
    ("Halifax", "West Yorkshire", 53.7248, -1.8658, "HX", 3, 1),
    ("Harrogate", "North Yorkshire", 53.9921, -1.5418, "HG", 3, 1),
    ("Truro", "Cornwall", 50.2632, -5.0510, "TR", 4, 1),
]

STREETS = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Road",
    "Victoria Street",
    "Market Place",
    "Queen Street",
    "King Street",
    "Mill Lane",
    "The Crescent",
    "Albert Road",
    "Chapel Street",
    "Grove Road",
    "Orchard Way",
    "London Road",
    "North Street",
    "West End",
    "Castle Street",
    "Bridge Street",
    "Springfield Road",
]
BUILDINGS = [
    "",
    "",
    "",
    "The Wellbeing Centre",
    "Unit 4, Riverside House",
    "First floor, Gladstone House",
    "Suite 2, The Old Library",
    "Community Hall",
    "Room 3, Quaker Meeting House",
]

FIRST_NAMES = {
    "Woman": [
        "Amelia",
        "Olivia",
        "Sophie",
        "Hannah",
        "Priya",
        "Aisha",
        "Fatima",
        "Chloe",
        "Grace",
        "Emily",
        "Zara",
        "Ewa",
        "Magdalena",
        "Siobhan",
        "Niamh",
        "Rachel",
        "Helen",
        "Sarah",
        "Joanna",
        "Lucia",
        "Maria",
        "Ngozi",
        "Yasmin",
        "Claire",
        "Ruth",
        "Catrin",
        "Mei",
        "Anjali",
        "Rebecca",
        "Laura",
    ],
    "Man": [
        "James",
        "Oliver",
        "Mohammed",
        "Daniel",
        "Tom",
        "David",
        "Arjun",
        "Kwame",
        "Piotr",
        "Ahmed",
        "Sean",
        "Rhys",
        "Callum",
        "Matthew",
        "Samuel",
        "Imran",
        "Marcus",
        "Luca",
        "Joseph",
        "Adam",
    ],
    "neutral": [
        "Alex",
        "Sam",
        "Jordan",
        "Robin",
        "Charlie",
        "Jamie",
        "Morgan",
        "Riley",
        "Kit",
        "Ash",
    ],
}
SURNAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Khan",
    "Patel",
    "Ahmed",
    "Hussain",
    "Begum",
    "Singh",
    "Kaur",
    "Ali",
    "Shah",
    "Chowdhury",
    "Kowalski",
    "Nowak",
    "Okafor",
    "Mensah",
    "Adeyemi",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Campbell",
    "Stewart",
    "MacDonald",
    "Morgan",
    "Lewis",
    "Price",
    "Garcia",
    "Rossi",
    "Nguyen",
    "Chen",
    "Wong",
    "Costa",
    "Fernandes",
    "Ibrahim",
    "Osei",
    "Clarke",
    "Baker",
    "Cooper",
    "Ward",
    "Harris",
    "Martin",
    "Bennett",
]

ORGANISATION_PATTERNS = [
    "{town} Counselling Service",
    "{town} Bereavement Support",
    "{town} Talking Therapies Collective",
    "Open Door Counselling {town}",
    "{town} Art Therapy Studio",
    "{town} Children's Therapy Centre",
    "Harbour Wellbeing {town}",
    "{town} Peer Support Network",
    "{town} Family Therapy Practice",
    "Stepping Stones {town}",
    "{town} Community Counselling",
    "{town} Carers' Support Circle",
]

# What fits each support type: approaches (slugs), concerns it is often sought for,
# the usual fee range per session in pounds, and the credentials a practitioner holds.
# Credential: (kind, title, issuing body, number prefix or "" if none)
SUPPORT_TYPE_PROFILES = {
    "psychotherapy": {
        "approaches": [
            "psychodynamic",
            "person-centred",
            "cbt",
            "emdr",
            "integrative",
            "ipt",
            "act",
            "gestalt",
            "compassion-focused",
            "dbt",
            "systemic",
        ],
        "concerns": [
            "anxiety",
            "depression",
            "trauma",
            "relationships",
            "self-esteem",
            "abuse",
            "ocd",
            "eating-disorders",
            "grief",
            "self-harm",
            "sexuality-gender",
            "anger",
        ],
        "fees": (50, 130),
        "degrees": [
            ("degree", "MSc Psychotherapy", "Regent's University London"),
            ("degree", "Doctorate in Counselling Psychology", "University of Manchester"),
            ("degree", "MA Integrative Psychotherapy", "Metanoia Institute"),
            ("degree", "MSc Cognitive Behavioural Psychotherapy", "University of Exeter"),
        ],
        "licences": [
            ("licence", "UKCP Registered Psychotherapist", "UK Council for Psychotherapy", "UKCP"),
            (
                "licence",
                "HCPC Registered Counselling Psychologist",
                "Health and Care Professions Council",
                "PYL",
            ),
            (
                "licence",
                "BABCP Accredited CBT Psychotherapist",
                "British Association for Behavioural and Cognitive Psychotherapies",
                "BABCP",
            ),
        ],
        "extras": [
            ("certification", "Accredited EMDR Practitioner", "EMDR Association UK", "EMDR"),
            (
                "membership",
                "Member, British Psychoanalytic Council",
                "British Psychoanalytic Council",
                "BPC",
            ),
        ],
    },
    "counselling": {
        "approaches": [
            "person-centred",
            "cbt",
            "integrative",
            "solution-focused",
            "psychodynamic",
            "mindfulness-based",
            "act",
            "compassion-focused",
        ],
        "concerns": [
            "anxiety",
            "depression",
            "grief",
            "relationships",
            "stress",
            "career",
            "life-transitions",
            "self-esteem",
            "loneliness",
            "anger",
            "parenting",
            "addiction",
            "chronic-illness",
        ],
        "fees": (35, 75),
        "degrees": [
            ("certification", "Level 4 Diploma in Therapeutic Counselling", "CPCAB"),
            ("degree", "BSc Counselling", "University of Leicester"),
            ("degree", "MA Counselling and Psychotherapy", "University of Nottingham"),
            ("degree", "PG Diploma in Person-Centred Counselling", "University of Strathclyde"),
        ],
        "licences": [
            (
                "licence",
                "Registered Member MBACP",
                "British Association for Counselling and Psychotherapy",
                "BACP",
            ),
            (
                "licence",
                "MBACP (Accred)",
                "British Association for Counselling and Psychotherapy",
                "BACP",
            ),
            (
                "licence",
                "Accredited Registrant",
                "National Counselling and Psychotherapy Society",
                "NCPS",
            ),
        ],
        "extras": [
            (
                "certification",
                "Certificate in Bereavement Counselling",
                "Cruse Bereavement Support",
                "",
            ),
            ("certification", "Couples Counselling Certificate", "Relate Institute", ""),
        ],
    },
    "art-therapy": {
        "approaches": [
            "psychodynamic",
            "person-centred",
            "integrative",
            "mindfulness-based",
            "compassion-focused",
        ],
        "concerns": [
            "trauma",
            "depression",
            "anxiety",
            "grief",
            "self-esteem",
            "abuse",
            "chronic-illness",
            "child-behaviour",
            "eating-disorders",
        ],
        "fees": (45, 85),
        "degrees": [
            ("degree", "MA Art Psychotherapy", "Goldsmiths, University of London"),
            ("degree", "MA Art Therapy", "University of Derby"),
            ("degree", "MSc Art Psychotherapy", "Queen Margaret University"),
        ],
        "licences": [
            (
                "licence",
                "HCPC Registered Art Therapist",
                "Health and Care Professions Council",
                "AS",
            )
        ],
        "extras": [
            (
                "membership",
                "Full Member, British Association of Art Therapists",
                "British Association of Art Therapists",
                "BAAT",
            )
        ],
    },
    "play-therapy": {
        "approaches": ["non-directive-play", "person-centred", "tf-cbt", "systemic", "integrative"],
        "concerns": [
            "child-behaviour",
            "anxiety",
            "trauma",
            "grief",
            "parenting",
            "abuse",
            "self-esteem",
            "life-transitions",
        ],
        "fees": (40, 80),
        "degrees": [
            ("degree", "MA Play Therapy", "Roehampton University"),
            ("degree", "PG Diploma in Play Therapy", "Canterbury Christ Church University"),
        ],
        "licences": [
            ("licence", "Registered Play Therapist", "Play Therapy UK", "PTUK"),
            (
                "licence",
                "Full Member, British Association of Play Therapists",
                "British Association of Play Therapists",
                "BAPT",
            ),
        ],
        "extras": [
            (
                "certification",
                "Certificate in Therapeutic Play Skills",
                "Academy of Play and Child Psychotherapy",
                "",
            )
        ],
    },
    "support-groups": {
        "approaches": [
            "psychoeducation",
            "mindfulness-based",
            "person-centred",
            "solution-focused",
        ],
        "concerns": [
            "grief",
            "addiction",
            "anxiety",
            "depression",
            "loneliness",
            "parenting",
            "chronic-illness",
            "trauma",
            "eating-disorders",
            "sexuality-gender",
            "self-harm",
        ],
        "fees": (0, 10),
        "degrees": [
            ("certification", "Certificate in Group Facilitation", "Institute of Group Analysis")
        ],
        "licences": [
            (
                "membership",
                "Organisational Member",
                "British Association for Counselling and Psychotherapy",
                "BACP",
            )
        ],
        "extras": [],
    },
}

GROUP_NAMES = {
    "grief": "Bereavement support group",
    "addiction": "Recovery support group",
    "anxiety": "Anxiety peer support group",
    "depression": "Low mood support circle",
    "loneliness": "Friendship and connection group",
    "parenting": "Parents' support group",
    "chronic-illness": "Living with long-term illness group",
    "trauma": "Trauma survivors' group",
    "eating-disorders": "Eating disorder recovery group",
    "sexuality-gender": "LGBTQ+ peer support group",
    "self-harm": "Self-harm support group",
}

# How often each additional language appears among UK listings (English is always offered).
LANGUAGE_WEIGHTS = {
    "polish": 8,
    "urdu": 7,
    "punjabi": 6,
    "spanish": 8,
    "bengali": 5,
    "arabic": 5,
    "french": 6,
    "portuguese": 4,
    "romanian": 3,
    "gujarati": 3,
    "italian": 3,
    "turkish": 2,
    "mandarin-chinese": 2,
    "cantonese": 2,
    "welsh": 3,
    "somali": 2,
    "farsi": 2,
    "german": 3,
    "ukrainian": 2,
    "british-sign-language": 1,
}

PRONOUNS = {
    "Woman": "she/her",
    "Man": "he/him",
    "Non-binary": "they/them",
    "Genderqueer": "they/them",
    "Genderfluid": "they/she",
    "Agender": "they/them",
    "Two-spirit": "they/them",
}

STATEMENT_OPENINGS = [
    "I offer a calm, unhurried space where you can talk about whatever has brought you here.",
    "Reaching out for support can feel daunting; I aim to make our first conversation as easy as possible.",
    "I believe that people find their own way forward when they feel listened to and respected.",
    "My work is collaborative: we decide together what you want to change and how we will get there.",
    "Whatever you are carrying, you do not have to work it out alone.",
    "I work gently and at your pace, and I am happy to answer questions before we begin.",
]
ORGANISATION_OPENINGS = [
    "We are a not-for-profit service run by qualified practitioners and trained volunteers.",
    "Our team has supported people in the area for many years, with fees set so that cost is not a barrier.",
    "We offer a welcoming space for anyone who needs it, whatever their background.",
]
STATEMENT_CLOSINGS = [
    "Get in touch for an informal chat about whether we are a good fit.",
    "There is step-by-step information about what to expect on the website.",
    "Appointments are usually weekly, at the same time each week.",
    "I have regular clinical supervision and follow my professional body's ethical framework.",
    "You are welcome to bring a friend or family member to the first meeting.",
]

# Recommendations and problem reports for the demo (services/management/commands/seed_demo.py).
# {name} is the provider's first name (or the organisation's name), {town} where they work.
RECOMMENDATION_TEXTS = {
    "referrer": [
        "I have referred a number of patients to {name} and every one has been seen promptly and treated with real care. With their consent, {name} keeps me informed and is clear when someone needs a different kind of help.",
        "People I send to {name} come back to me calmer and with a plan. {name} is reliable about replying and honest about waiting times.",
        "A dependable service for the people I work with in {town}. Clear about fees and about what they can and cannot offer.",
    ],
    "colleague": [
        "I have worked alongside {name} for several years. They prepare carefully, take supervision seriously and are honest about the limits of their practice.",
        "{name} is one of the most thoughtful practitioners I know: warm with clients and careful with their records and their privacy.",
        "I share rooms with {name} in {town}. Clients often tell me how welcome they felt from the first session.",
    ],
    "former_client": [
        "I went to {name} after a very hard year. I felt listened to from the start and never rushed, and I left with ways of coping that I still use.",
        "I was nervous about starting, but {name} explained everything at the beginning and let me go at my own pace. I would recommend them to a friend.",
        "Practical and kind. {name} helped me make sense of things without telling me what to do.",
    ],
}
RECOMMENDER_ROLES = {
    "referrer": ["GP, {town}", "Practice nurse", "School counsellor", "Social worker, {town}"],
    "colleague": ["Counsellor", "Clinical supervisor", "Psychotherapist, {town}", ""],
    "former_client": [""],
}
REPORT_DETAILS = {
    "phone": "I rang three times this week and the number said it was not recognised.",
    "not_taking": "They told me on the phone that their list is full until next year.",
    "moved": "The practice on this street has closed; a sign says they have moved across town.",
    "closed": "Their website says they stopped seeing clients last month.",
    "other": "The fees on their own website are higher than the ones shown here.",
}


def demo_photo(seed: int, size: int = 480) -> bytes:
    """A made-up, portrait-like picture (a JPEG): a head and shoulders in soft colours on a
    plain background, with a little grain so it compresses as a photo does. No one's face,
    and nothing downloaded. The same seed gives the same picture."""
    import io
    import random

    from PIL import Image, ImageDraw, ImageFilter

    r = random.Random(f"photo-{seed}")
    top, bottom = r.choice(PHOTO_BACKGROUNDS)
    picture = Image.linear_gradient("L").resize((size, size))
    picture = Image.composite(
        Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), picture
    )
    draw = ImageDraw.Draw(picture)
    skin, hair, clothes = r.choice(SKIN_TONES), r.choice(HAIR_COLOURS), r.choice(CLOTHES)
    middle = size // 2 + r.randint(-size // 20, size // 20)
    head = size * r.uniform(0.17, 0.21)
    neck_top = size * 0.42
    # Shoulders, neck, hair behind the head, the head.
    draw.ellipse([middle - size * 0.42, size * 0.72, middle + size * 0.42, size * 1.35], clothes)
    draw.rectangle([middle - head * 0.35, neck_top, middle + head * 0.35, size * 0.8], skin)
    long_hair = r.random() < 0.5
    draw.ellipse(
        [
            middle - head * 1.15,
            neck_top - head * 1.35,
            middle + head * 1.15,
            neck_top + (head * 1.1 if long_hair else -head * 0.2),
        ],
        hair,
    )
    draw.ellipse(
        [middle - head, neck_top - head * 1.15, middle + head, neck_top + head * 0.6], skin
    )
    picture = picture.filter(ImageFilter.GaussianBlur(size / 160))
    grain = Image.effect_noise((size, size), 18).convert("RGB")
    picture = Image.blend(picture, grain, 0.06)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


PHOTO_BACKGROUNDS = [
    ((214, 224, 230), (150, 170, 182)),
    ((232, 226, 214), (188, 176, 154)),
    ((222, 232, 218), (160, 182, 152)),
    ((236, 220, 222), (190, 160, 166)),
    ((228, 228, 236), (170, 170, 196)),
]
SKIN_TONES = [(241, 204, 177), (224, 172, 138), (198, 134, 98), (141, 85, 54), (92, 58, 40)]
HAIR_COLOURS = [(40, 30, 24), (90, 62, 40), (150, 110, 70), (200, 170, 120), (120, 120, 124)]
CLOTHES = [(52, 84, 120), (120, 60, 70), (60, 110, 90), (90, 90, 96), (180, 140, 80)]
