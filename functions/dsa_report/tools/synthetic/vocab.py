"""Vocabulary of the synthetic marketplace: enum keys of the data contract, their weights, generic texts.

Weighted choices are (value, weight) pairs; `cumulative()` turns them into the values and cumulative shares
that the choice macros of `world.py` read. Texts are generic and non-personal on purpose.
"""

from __future__ import annotations

from datetime import date

CAT = "STATEMENT_CATEGORY_"
UNSAFE, IP, CONSUMER = CAT + "UNSAFE_AND_PROHIBITED_PRODUCTS", CAT + "INTELLECTUAL_PROPERTY_INFRINGEMENTS", \
    CAT + "CONSUMER_INFORMATION"
SCAMS, MINORS, ANIMALS, TC = CAT + "SCAMS_AND_FRAUD", CAT + "PROTECTION_OF_MINORS", CAT + "ANIMAL_WELFARE", \
    CAT + "OTHER_VIOLATION_TC"

# TDB schema v2 since 1 July 2025: SoRs submitted before carry the v1 keys of the two renamed categories.
V2_SINCE = date(2025, 7, 1)
V1_KEYS = {UNSAFE: CAT + "UNSAFE_AND_ILLEGAL_PRODUCTS", TC: CAT + "SCOPE_OF_PLATFORM_SERVICE"}

EU27 = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
        "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
# Rough population in millions, for active recipients per Member State.
POPULATION = dict(zip(EU27, (9.1, 11.7, 6.4, 0.9, 10.9, 84.0, 5.9, 1.4, 48.0, 5.6, 68.0, 10.4, 3.9, 9.6, 5.2,
                             59.0, 2.9, 0.66, 1.9, 0.53, 18.0, 37.0, 10.4, 19.0, 10.5, 2.1, 5.4), strict=True))

SOURCES = (("SOURCE_ARTICLE_16", 12), ("SOURCE_TRUSTED_FLAGGER", 4), ("SOURCE_TYPE_OTHER_NOTIFICATION", 2),
           ("SOURCE_VOLUNTARY", 82))
OTHER_NOTICE_SOURCES = (("SOURCE_ARTICLE_16", 80), ("SOURCE_TRUSTED_FLAGGER", 5),
                        ("SOURCE_TYPE_OTHER_NOTIFICATION", 15))
ILLEGAL_CATEGORIES = ((UNSAFE, 40), (IP, 38), (CONSUMER, 10), (SCAMS, 7), (MINORS, 3), (ANIMALS, 2))
INCOMPATIBLE_CATEGORIES = ((TC, 30), (CONSUMER, 25), (SCAMS, 15), (UNSAFE, 15), (IP, 15))
VISIBILITY = (("DECISION_VISIBILITY_CONTENT_REMOVED", 60), ("DECISION_VISIBILITY_CONTENT_DISABLED", 25),
              ("DECISION_VISIBILITY_CONTENT_DEMOTED", 7), ("DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED", 2),
              ("DECISION_VISIBILITY_CONTENT_LABELLED", 2), ("DECISION_VISIBILITY_OTHER", 4))
CONTENT_TYPES = (('["CONTENT_TYPE_PRODUCT"]', 86), ('["CONTENT_TYPE_IMAGE","CONTENT_TYPE_PRODUCT"]', 8),
                 ('["CONTENT_TYPE_TEXT"]', 3), ('["CONTENT_TYPE_OTHER"]', 3))
LANGUAGES = (("EN", 40), ("DE", 15), ("FR", 12), ("IT", 8), ("ES", 8), ("PL", 6), ("NL", 5), ("PT", 3),
             ("SV", 3))
TRADER_COUNTRIES = (("CN", 40), ("DE", 10), ("FR", 6), ("IT", 6), ("HK", 5), ("ES", 5), ("PL", 5), ("NL", 4),
                    ("TR", 4), ("US", 4), ("GB", 4), ("BE", 2), ("AT", 2), ("PT", 1), ("CZ", 1), ("IE", 1))
VOLUNTARY_AUTOMATION = (("AUTOMATED_DECISION_FULLY", 35), ("AUTOMATED_DECISION_PARTIALLY", 45),
                        ("AUTOMATED_DECISION_NOT_AUTOMATED", 20))
NOTICE_AUTOMATION = (("AUTOMATED_DECISION_NOT_AUTOMATED", 50), ("AUTOMATED_DECISION_PARTIALLY", 45),
                     ("AUTOMATED_DECISION_FULLY", 5))

VISIBILITY_OTHER_TEXTS = ("Listing excluded from search results and recommendations",
                          "Listing restricted to buyers in Member States where the product is lawful")
CONTENT_TYPE_OTHER_TEXT = "Product bundle listing"
TC_GROUNDS = ("Prohibited and restricted items policy, section 4", "Listing quality policy, section 2",
              "Intellectual property policy, section 3", "Seller code of conduct, section 5")
HIDDEN_LINK_FACTS = ("The listing showed a different product from the one actually shipped (hidden link); "
                     "confirmed by a test purchase.",
                     "Title, images and price disguised a prohibited product sold through this listing "
                     "(hidden link).")

NOTICE_FACTS = {"SOURCE_ARTICLE_16": "Listing reviewed after a notice and the information it contained.",
                "SOURCE_TRUSTED_FLAGGER": "Listing reviewed after a notice from a trusted flagger.",
                "SOURCE_TYPE_OTHER_NOTIFICATION": "Listing reviewed after a notification by a public authority."}

# category -> (median notice decision hours, (legal ground, explanation, keyword) triples for the illegal
# ground, explanations for the terms-and-conditions ground, facts of own-initiative decisions)
CategoryTexts = tuple[float, tuple[tuple[str | None, str | None, str], ...], tuple[str, ...], tuple[str, ...]]
CATEGORY_TEXTS: dict[str, CategoryTexts] = {
    UNSAFE: (95, (
        ("Regulation (EU) 2023/988 on general product safety",
         "The product does not meet EU safety requirements and is listed in Safety Gate.", "KEYWORD_UNSAFE_PRODUCTS"),
        ("Directive 2001/83/EC on medicinal products for human use",
         "The product is a medicine that may not be sold to consumers without authorisation.",
         "KEYWORD_RISK_PUBLIC_HEALTH"),
        ("Regulation (EU) 2019/1020 on market surveillance",
         "The product may not be placed on the EU market.", "KEYWORD_PROHIBITED_PRODUCTS")),
     ("The item belongs to a category that the marketplace does not allow.",),
     ("Detected by automated product-safety screening and confirmed by a reviewer.",
      "Matched a product alert of the EU Safety Gate during proactive screening.")),
    IP: (220, (
        ("Regulation (EU) 2017/1001 on the European Union trade mark",
         "The listing offered goods bearing a trade mark without the holder's consent.",
         "KEYWORD_TRADEMARK_INFRINGEMENT"),
        ("Directive 2001/29/EC on copyright in the information society",
         "The listing reproduced protected images without authorisation.", "KEYWORD_COPYRIGHT_INFRINGEMENT"),
        ("Regulation (EC) No 6/2002 on Community designs",
         "The listing offered copies of a registered design.", "KEYWORD_DESIGN_INFRINGEMENT")),
     ("The listing used brand names or images that the seller may not use.",),
     ("Detected by brand-protection image matching and confirmed by a reviewer.",)),
    CONSUMER: (110, (
        ("Directive 2005/29/EC on unfair commercial practices",
         "The listing gave misleading information about the product.", "KEYWORD_MISLEADING_INFO_GOODS_SERVICES"),
        ("Directive 2011/83/EU on consumer rights",
         "The listing misrepresented the buyer's right of withdrawal.", "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS"),
        ("Directive 98/6/EC on consumer protection in the indication of prices",
         "The listing showed a misleading reference price.", "KEYWORD_NONCOMPLIANCE_PRICING")),
     ("The listing did not describe the item as the listing quality policy requires.",),
     ("Listing text and price history reviewed against the product data.",)),
    SCAMS: (75, (
        ("Directive 2005/29/EC on unfair commercial practices",
         "The listing was used to obtain payment for goods that were never delivered.",
         "KEYWORD_INAUTHENTIC_LISTINGS"),
        ("National criminal law on fraud", "The listing led buyers to a fake payment page.", "KEYWORD_PHISHING")),
     ("The listing tried to move the sale outside the marketplace.",),
     ("Detected by payment-fraud signals and confirmed by a reviewer.",)),
    MINORS: (85, (
        ("Directive 2009/48/EC on the safety of toys",
         "The toy exceeds the chemical limits that EU toy-safety rules allow.",
         "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"),),
     ("The item may not be offered to minors under the marketplace rules.",),
     ("Test purchase and laboratory check of the product.",)),
    ANIMALS: (105, (
        ("Regulation (EC) No 338/97 on trade in wild fauna and flora",
         "The listing offered a protected species.", "KEYWORD_UNLAWFUL_SALE_ANIMALS"),),
     ("Live animals may not be sold on the marketplace.",),
     ("Detected by listing-policy screening.",)),
    TC: (100, ((None, None, "KEYWORD_GOODS_SERVICES_NOT_PERMITTED"),),
         ("The listing broke the marketplace's terms and conditions.",
          "The item is on the list of items the marketplace does not allow."),
         ("Detected by listing-policy screening.", "Found during a review of the seller's listings.")),
}


def cumulative(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    """Values and cumulative shares (ending at 1.0) for a choice macro (see world.py)."""
    total = sum(w for _, w in pairs)
    shares, running = [], 0.0
    for _, weight in pairs:
        running += weight
        shares.append(running / total)
    shares[-1] = 1.0
    return [v for v, _ in pairs], shares
