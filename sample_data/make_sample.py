#!/usr/bin/env python3
"""Write the generated files of the fictional Eastvale sample review, reproducibly.

Everything here is invented. The review team and case allocation are read from
``eastvale-2026/review.yaml``; this script writes, from a fixed seed:

    ratings/<reviewer>.csv   one file per reviewer; one reviewer works offline and sends back the
                             audit workbook the kit wrote for them (.xlsx), filled in
    case_flags.csv           the other reviewers' cases: complete, none referred back
    meetings.csv             the managers' and the practitioners' meetings
    conversations.csv        conversations with people, relatives and carers
    notes.csv                coded notes, quotes and each participant's "one change"
    concerns.csv             the concerns log: one risk to a person raised with the council during
                             the review, with the council's response as the host recorded it
    previous_action_plan.xlsx  the 2022 review's action plan as the council kept it (from review.yaml)
    calibration.csv          the calibration round held before anyone rated a case: every reviewer's
                             ratings of one fictional calibration record (CAL1), with a few notes
    calibration_agreed.csv   the ratings the team agreed for it after the discussion, with the reasons

Each case has a profile (the person's situation, in general terms) and a row of ratings, one
per audit question; evidence comments are drawn from hand-written banks per question and
level and filled in from the profile. Running it again gives byte-identical files:

    python sample_data/make_sample.py                 # rewrite sample_data/eastvale-2026
    python sample_data/make_sample.py --out /tmp/x    # write the same files elsewhere
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import yaml

HERE = Path(__file__).resolve().parent
REVIEW_DIR = HERE / "eastvale-2026"
SEED = 2026
OFFLINE_REVIEWER = "Tobias Wrenfield"  # works offline: sends the audit workbook back as XLSX
XLSX_TIME = (2026, 10, 16, 17, 0, 0)  # fixed timestamp inside the XLSX, for identical bytes
QUESTIONS = [f"q{i}" for i in range(1, 13)]
LEVELS = {"O": "Outstanding", "G": "Good", "R": "Requires Improvement", "I": "Inadequate",
          "N": "Not applicable"}

# ---------------------------------------------------------------------------------------------
# Case profiles. Slots fill the comment banks: carer (the main person in their network), goal
# (what matters to them), asset (a community option), risk, kit (equipment or enablement), comm
# (how they communicate) and identity (culture, faith, language or identity). Nothing here could
# identify anyone.
# ---------------------------------------------------------------------------------------------
PROFILES: dict[str, dict[str, str]] = {
    "C01": dict(comm="their hearing loss", carer="their son", goal="keeping up their garden", asset="a lunch club at the community centre",
                risk="falls on the stairs", kit="a stair rail and a perching stool",
                identity="their hearing loss"),
    "C02": dict(comm="their preference for easy read information", carer="their mother", goal="finding paid work", asset="a supported employment project",
                risk="travelling into town by bus on their own", kit="travel training",
                identity="their learning disability and preference for easy read information"),
    "C03": dict(comm="their difficulty finding words since the stroke", carer="their wife", goal="getting home to sleep in their own bed", asset="a stroke survivors' group",
                risk="mistakes with their medication", kit="a period of reablement",
                identity="their difficulty finding words since the stroke"),
    "C04": dict(comm="their anxiety about meeting new people", carer="a close friend", goal="returning to volunteering at a charity shop",
                asset="a peer support group run by a mental health charity",
                risk="self-neglect when their mood is low", kit="a daily living skills plan with the occupational therapist",
                identity="their faith"),
    "C05": dict(comm="their first language not being English", carer="their husband", goal="staying at home together", asset="the memory café",
                risk="leaving the cooker on", kit="telecare sensors",
                identity="their need for an interpreter"),
    "C06": dict(comm="their sight loss", carer="their sister", goal="getting to the shops independently", asset="a sight loss charity's peer group",
                risk="crossing busy roads", kit="mobility and orientation training", identity="their sight loss"),
    "C07": dict(comm="their quiet speech", carer="their wife", goal="keeping up their weekly game at the bowls club", asset="a Parkinson's exercise group",
                risk="falls at night", kit="a bed lever and a sensor mat",
                identity="the way Parkinson's affects their speech"),
    "C08": dict(comm="their sensory sensitivities", carer="their parents", goal="starting college", asset="a youth club for autistic young people",
                risk="harm online", kit="a visual timetable",
                identity="their autism and sensory sensitivities"),
    "C09": dict(comm="their hearing loss", carer="their niece", goal="walking to the corner shop again", asset="a befriending service",
                risk="falls outdoors", kit="reablement with the occupational therapist", identity="their hearing loss"),
    "C10": dict(comm="their wariness of professionals", carer="their brother", goal="keeping their tenancy", asset="a recovery café",
                risk="self-neglect linked to their drinking", kit="support to build a daily routine",
                identity="their experience of trauma"),
    "C11": dict(comm="how tired they became", carer="their daughter", goal="being comfortable with family around them", asset="a hospice day service",
                risk="pressure damage to their skin", kit="a profiling bed",
                identity="their faith and wish for a chaplain to visit"),
    "C12": dict(comm="their fatigue later in the day", carer="their partner", goal="returning to part-time work",
                asset="a user-led disabled people's organisation", risk="problems when employing their own personal assistants",
                kit="a through-floor lift", identity="their identity as a disabled parent"),
    "C13": dict(comm="their memory problems", carer="their son", goal="deciding where to live after hospital", asset="a day centre near their home",
                risk="further falls", kit="a short stay in a care home to recover",
                identity="their mild memory problems"),
    "C14": dict(comm="their anxiety about the situation", carer="their granddaughter", goal="keeping control of their own money",
                asset="an independent advice service", risk="financial exploitation", kit="a key safe",
                identity="their wish to keep family matters private"),
    "C15": dict(comm="their fatigue", carer="their husband", goal="carrying on working from home", asset="a multiple sclerosis support group",
                risk="fatigue and falls", kit="an occupational therapy assessment",
                identity="how their needs change from day to day"),
    "C16": dict(comm="their memory loss", carer="their daughter", goal="walking the dog every day", asset="a dementia-friendly walking group",
                risk="getting lost when out alone", kit="a period of reablement and a GPS locator",
                identity="living with dementia at a young age"),
    "C17": dict(comm="their distrust of services", carer="a neighbour", goal="staying in their flat", asset="a hoarding support group",
                risk="fire in the home", kit="practical help to make the kitchen usable again", identity="their distrust of services"),
    "C18": dict(comm="their use of signs and gestures", carer="their father", goal="planning for when their father can no longer care",
                asset="a day opportunities service", risk="their father's own health failing",
                kit="a shared lives arrangement", identity="their use of signs and gestures to communicate"),
    "C19": dict(comm="how unwell they were at the time", carer="their partner", goal="getting back to their art classes", asset="a community arts project",
                risk="relapse when their mood is high", kit="support to return to their usual routines",
                identity="their cultural background"),
    "C20": dict(comm="their limited speech", carer="their wife", goal="being settled and comfortable in the nursing home",
                asset="a chaplaincy visiting scheme", risk="choking when eating", kit="specialist seating",
                identity="their first language"),
}

# Ratings per case, q1..q12 then the overall judgement (O G R I N = Outstanding, Good, Requires
# Improvement, Inadequate, Not applicable). Management oversight (q11) and community assets
# (q5) are the weakest questions, as real reviews find.
MATRIX = """
C01 GGGORGGGOGRG G
C02 OOOGOOOGGOGO O
C03 GGGGGGGROGGG G
C04 GGGGGOGGGGRG G
C05 GRRGRRGRRGRR R
C06 OGGGRGGGGORG G
C07 OGOOGOOOGGRO O
C08 GOGOGGGGGGRG G
C09 OOOGGGOGOGGO O
C10 GRGRRGGOGGGR G
C11 OGGGGGGGNGGG G
C12 OOOOGOOOGOOG O
C13 GGOGRGGGGGGG G
C14 GGGGGGOOGGGG G
C15 RGGGRGGGRGGG G
C16 GOGOGGGGOGGO G
C17 RRGRRGRRGRIR R
C18 OGOOOOGOGGRO O
C19 GGGGGOGGGRRG G
C20 GGGGNRGGGRRG G
"""

# The moderators' independent ratings: the primary reviewer's, with these one-level differences.
MODERATION_DIFFS = {
    ("C04", "Deborah Linfoot"): {"q5": "R", "q6": "G"},
    ("C13", "Tobias Wrenfield"): {"q3": "G", "q11": "R"},
}

# ---------------------------------------------------------------------------------------------
# Evidence comment banks: question -> level -> variants. {slots} come from the case profile;
# {x_cap} is the slot with a capital letter.
# ---------------------------------------------------------------------------------------------
BANKS: dict[str, dict[str, list[str]]] = {
    "q1": {
        "O": [
            "The person's own words run through the assessment and clearly shape the plan; what they said about {goal} is quoted and drives the outcomes.",
            "Excellent use of direct quotes throughout. The practitioner adapted how they communicated because of {comm}, and the record explains how.",
            "The person's voice is the strongest thing in this record. You come away knowing what matters to them and why.",
            "The practitioner visited more than once, at the person's pace, and recorded their views in their own words, including where they saw things differently from {carer}.",
            "'I' statements are used well and the person's feelings about their situation are captured, not just their wishes.",
        ],
        "G": [
            "The person's views and wishes are clearly recorded and reflected in the decisions, although direct quotes are used sparingly.",
            "The person's voice comes through, particularly about {goal}. More of their own words would have strengthened the record.",
            "The views of both the person and {carer} are recorded, and it is clear whose view is whose.",
            "The person's wishes are clear and the plan reflects them. The record is written mainly in the third person.",
            "A good account of what the person wants, gathered over two visits; one direct quote brings it to life.",
            "The person's views are recorded and respected, though in places it is the practitioner's summary rather than the person speaking.",
        ],
        "R": [
            "The person's views are mostly paraphrased, and much of the assessment reflects what {carer} said rather than the person.",
            "It is hard to hear the person in this record, and there is nothing about how communication was supported given {comm}.",
            "Only professionals' views are recorded at the review; there is no evidence the person was asked what they thought.",
            "The person's voice is there in places but is lost in text copied forward from the previous assessment.",
        ],
    },
    "q2": {
        "O": [
            "Outcomes are written in the person's own terms, are specific, and each is linked to how it will be met. {goal_cap} is at the heart of the plan.",
            "A clear thread runs from what matters to the person through to the outcomes and the support, and the outcomes were revisited when things changed.",
            "Really specific outcomes, including {goal}, with the steps to get there and who will help with each.",
        ],
        "G": [
            "Outcomes are personal and mostly linked to the support plan, including {goal}.",
            "What matters to the person is recorded and reflected in the outcomes, though one or two are quite general.",
            "Outcomes are clear and in plain language. It is not always explicit how each one will be achieved.",
            "The outcomes reflect the person's priorities; a little more detail on the steps to achieve them would help.",
            "A good link between the person's wishes and the outcomes, and it is clear why {goal} matters to them.",
        ],
        "R": [
            "Outcomes are generic and service-led, for example 'to remain safe and well', rather than what the person wants.",
            "What matters to the person is recorded in the assessment but is not carried into the outcomes or the plan.",
            "The outcomes describe the services to be provided rather than the difference the person wants to see.",
        ],
    },
    "q3": {
        "O": [
            "A rich picture of the person's strengths, skills and interests, and the plan builds on them directly rather than simply listing them.",
            "The practitioner drew out the person's strengths through conversation rather than a checklist, and used them to shape support around {goal}.",
            "Strengths are woven through the whole assessment; the person's determination and know-how are recognised and put to use.",
        ],
        "G": [
            "Strengths are identified and partly used in the plan, and the practitioner recognised how much {goal} matters to the person.",
            "The assessment records what the person can do as well as where they need help.",
            "Strengths are clearly identified; the link between them and the support plan could be more explicit.",
            "The strengths section is meaningful and specific to the person, though later sections slip back into a list of needs.",
            "Good recognition of what the person manages for themselves, which keeps the support proportionate.",
        ],
        "R": [
            "Strengths are listed in the strengths box but not used anywhere in the plan.",
            "The assessment is largely deficit-focused and strengths are mentioned only in passing.",
        ],
    },
    "q4": {
        "O": [
            "The person's network is mapped carefully, and {carer_pos} willingness and ability to help were confirmed with them rather than assumed.",
            "Excellent exploration of relationships, including friends the person had lost touch with; the plan helps them rebuild those links.",
            "A clear record of who does what in the person's network, agreed with the person and with {carer}.",
        ],
        "G": [
            "Family and friends are considered, and {carer_pos} role was confirmed with them.",
            "The network is explored and recorded. {carer_cap} was spoken to and agreed the part they play.",
            "Informal support is identified and the practitioner checked that {carer} was happy to continue.",
            "Relationships are recorded clearly; wider community connections less so.",
            "Good consideration of the person's network, friends as well as family.",
        ],
        "R": [
            "It is assumed that {carer} will continue to help; there is no record that they were asked whether they can.",
            "The person's network is not explored beyond {carer}.",
            "There is no plan for what happens if {carer} cannot continue, although the record notes they are under strain.",
        ],
    },
    "q5": {
        "O": [
            "Creative use of community options: the practitioner introduced the person to {asset}, and the record shows they now go regularly.",
            "Preventive and community support was considered first and used well, with {asset} alongside a smaller package of care.",
        ],
        "G": [
            "Community options were discussed and the person agreed to try {asset}.",
            "Universal and preventive options are considered before funded support, including {asset}.",
            "The practitioner explored {asset} with the person; it would help to record whether it was taken up.",
            "Some consideration of community resources, and equipment was considered before care.",
        ],
        "R": [
            "Community assets are not explored; the assessment moves straight to a commissioned service.",
            "A leaflet about {asset} was given, but there is no record of a conversation about it or of any follow-up.",
            "Only formal services are considered. Nothing is recorded about what is available locally or what the person used to enjoy.",
            "Signposting only, with no sense of whether it suited the person or whether they were helped to make contact.",
        ],
        "N": [
            "Not applicable here: the record concerns a move into nursing care funded by health, and community options were not part of the decision.",
        ],
    },
    "q6": {
        "O": [
            "Respectful, plain language throughout; this record could be shared with the person exactly as written.",
            "The recording is warm and person-centred, written for the person as much as about them.",
        ],
        "G": [
            "Language is respectful and mostly plain, with a few acronyms the person might not understand.",
            "Generally person-centred recording, though one or two phrases such as 'placed' could be reworded.",
            "Respectful and clear. Some service jargon creeps into the support plan.",
            "Recording is respectful and easy to follow.",
        ],
        "R": [
            "Several deficit labels, such as 'non-compliant' and 'wanders', which do not reflect the person's own account.",
            "The record switches between the first and third person and includes some judgemental phrases.",
        ],
    },
    "q7": {
        "O": [
            "The plan was written with the person and {carer}; options including a direct payment were explored in detail and the person's choice is recorded.",
            "Real choice and control: the person decided how their support is arranged, and the record explains the options they turned down and why.",
        ],
        "G": [
            "The person was involved in the plan, and a direct payment was offered and explained.",
            "Choices are recorded and the person agreed the plan; a copy was shared with them.",
            "The person's preferences about when and how support is given are reflected in the plan.",
            "Involved throughout. Direct payments were discussed and the person preferred a commissioned service.",
        ],
        "R": [
            "The plan appears to have been written by the practitioner alone, and there is no record it was shared or agreed.",
            "No evidence that a direct payment or any other option was discussed; a service was simply arranged.",
        ],
    },
    "q8": {
        "O": [
            "Risks around {risk} were talked through openly with the person, whose own view of what feeling safe means is recorded; the plan is the least restrictive option.",
            "A thoughtful, person-led risk assessment of {risk} that balances the person's rights with safety and shows positive risk-taking.",
        ],
        "G": [
            "Risks are identified, discussed with the person and balanced against what they want.",
            "The risk of {risk} is considered with the person, and proportionate measures were agreed.",
            "A reasonable risk assessment that reflects the person's views, though the contingency plan is brief.",
            "Balanced consideration of {risk}, and the person's capacity to make this decision was considered.",
        ],
        "R": [
            "Risk is framed from the professionals' point of view; the person's own view of {risk} is not recorded.",
            "The plan is risk-averse, and the importance to the person of {goal} is not weighed against the concerns.",
            "Risks around {risk} are noted, but there is no plan to manage them and no contingency if things change.",
        ],
    },
    "q9": {
        "O": [
            "Enablement first: the practitioner arranged {kit} before any long-term care was considered, and the gains the person made are recorded.",
            "The practitioner worked closely with occupational therapy; {kit} meant the person regained skills and needed less support.",
        ],
        "G": [
            "The practitioner considered {kit} at the right point, before longer-term support.",
            "Independence was promoted, and {kit} was offered before any other support.",
            "Occupational therapy and equipment were considered, and {kit} is part of the plan.",
            "Occupational therapy involvement is recorded, and the plan supports the person to do as much as they can for themselves.",
        ],
        "R": [
            "Long-term care was arranged without any evidence that reablement or equipment was considered.",
            "Occupational therapy was asked to assess only after the package was agreed, so it did not shape the plan.",
        ],
        "N": [
            "Not applicable here: the person was receiving end of life care, and the focus was rightly on comfort rather than regaining skills.",
        ],
    },
    "q10": {
        "O": [
            "The practitioner understood {identity} and it shapes how support is given; the adjustments made, and why, are recorded.",
            "Thoughtful attention to the person's identity and communication, including {identity}, which clearly shaped the support.",
        ],
        "G": [
            "The record notes {identity}, and reasonable adjustments were made.",
            "The person's communication needs and background are recorded and considered.",
            "Identity and culture are recorded, and it is clear the practitioner asked what was important to the person.",
            "Equality information is complete, and the plan takes account of {identity}.",
        ],
        "R": [
            "The record mentions {identity}, but there is no sense of how it affected the support offered.",
            "Cultural and faith needs are not explored beyond a tick box.",
            "The equality section is incomplete, and the person's communication needs are not addressed.",
        ],
    },
    "q11": {
        "O": [
            "Reflective management oversight is recorded at key points and adds value: the manager prompted the practitioner to revisit {goal} and challenged a more risk-averse option.",
        ],
        "G": [
            "The manager's decision is recorded with a rationale at the funding stage.",
            "Timely oversight is recorded at allocation and at the panel decision.",
            "A supervision discussion about this case is recorded, with actions that were followed up.",
            "Management sign-off with a brief rationale, in good time.",
        ],
        "R": [
            "Sign-off only, with no rationale and no evidence of any discussion.",
            "No management oversight visible on the record apart from the panel outcome.",
            "Oversight was recorded late, after the support had started, and there is no evidence of a case discussion in supervision.",
            "No record of a supervision discussion, even though the practitioner was working with a complex situation.",
            "A manager's authorisation is recorded, but nothing shows the decision was discussed or the practitioner supported.",
        ],
        "I": [
            "No management oversight at all on a case with a serious risk of {risk}; the case drifted for several weeks without any recorded decision.",
        ],
    },
    "q12": {
        "O": [
            "The review records the difference made in the person's own words, and the plan was changed as a result.",
            "Clear evidence of impact: progress towards {goal} is recorded in the person's words at review, and the next steps were agreed with them.",
        ],
        "G": [
            "A review date is set, and the plan has been reviewed with the person.",
            "The review is recorded, and the outcomes were checked with the person and {carer}.",
            "The difference made is recorded; the review was held a little later than planned.",
            "The review shows the support is working, though it says more about the services than about the person's outcomes.",
        ],
        "R": [
            "It is not clear what difference the support has made; the review repeats the original assessment.",
            "No review date is set, and there is no record of checking with the person whether the support is working.",
            "The review is overdue and the outcomes have not been revisited.",
        ],
    },
}

# The overall judgement's comment, written for each reviewer's case (a professional judgement,
# not an average of the questions).
OVERALL: dict[tuple[str, str], str] = {
    ("C01", "Rowena Ashdown"): "A good, proportionate piece of work that keeps the person at home doing what they enjoy. Community options and management oversight are the gaps.",
    ("C02", "Rowena Ashdown"): "Outstanding. The person's voice and ambitions drive everything, and the practitioner was creative about work and travel; I would use this as a practice example.",
    ("C03", "Rowena Ashdown"): "Good work under hospital discharge pressure: the person got home with reablement in place. The medication risk needed more thought with the person.",
    ("C04", "Rowena Ashdown"): "Good, patient work with someone who had withdrawn from services. Respectful recording throughout; no oversight of a plan that carries some risk.",
    ("C05", "Rowena Ashdown"): "Requires improvement. The assessment is largely copied forward, the carer's strain is noted but not acted on, and there is no contingency or management oversight.",
    ("C06", "Tobias Wrenfield"): "Good practice with real attention to the person's sight loss. It would have been stronger with a proper look at what is available locally.",
    ("C07", "Tobias Wrenfield"): "Outstanding joint work with the person and their wife; the carer's own needs were heard. Missing management oversight is the only real gap.",
    ("C08", "Tobias Wrenfield"): "Good transition work, well planned with the young person and their parents ahead of college. No management oversight recorded.",
    ("C09", "Tobias Wrenfield"): "Outstanding enablement-first practice. The person regained confidence and skills and needs far less support than first thought.",
    ("C10", "Tobias Wrenfield"): "Good overall: a persistent practitioner kept the person engaged and the tenancy safe. Outcomes are service-led and the review is thin.",
    ("C11", "Deborah Linfoot"): "Good, compassionate end of life work that respects the person's faith and keeps the family involved.",
    ("C12", "Deborah Linfoot"): "Outstanding. Choice and control are real, the person's aspirations lead the plan, and there is reflective management oversight on the record.",
    ("C13", "Deborah Linfoot"): "Good work that gave the person time to decide where to live. Community options were not explored.",
    ("C14", "Deborah Linfoot"): "Good, sensitive work on a financial safeguarding concern that kept the person in control of the decisions.",
    ("C15", "Deborah Linfoot"): "Good in most respects, but the person's voice is faint and occupational therapy came late, so the plan is more service-led than it needed to be.",
    ("C16", "Helen Marchbank"): "Good and close to outstanding: the plan protects what matters most to the person and makes good use of enablement.",
    ("C17", "Helen Marchbank"): "Requires improvement. A high-risk situation without management oversight, risk-averse recording and no plan for fire safety until late on.",
    ("C18", "Helen Marchbank"): "Outstanding planning with the person and their father for the future, at the person's pace and in the way they communicate.",
    ("C19", "Helen Marchbank"): "Good. The crisis plan is strong and written with the person; cultural needs and oversight were not addressed.",
    ("C20", "Helen Marchbank"): "Good work supporting a move into nursing care, with the person's wife closely involved. Recording language and oversight need attention.",
    ("C04", "Deborah Linfoot"): "Moderation: I agree this is good practice overall. I would have liked more on community options and found the recording respectful but not exceptional.",
    ("C13", "Tobias Wrenfield"): "Moderation: I agree with good overall. The strengths are well identified, and I rated oversight lower as there is sign-off without discussion.",
}

# ---------------------------------------------------------------------------------------------
# Meetings, conversations and notes (coded with the default codebook; conversations with the CQC
# I statements i1..i6, carers and equality). Quotes are non-attributable: a role at most.
# ---------------------------------------------------------------------------------------------
MEETINGS = [  # meeting, kind, date, role, attendees, title
    ("M1", "managers", "2026-10-07", "team manager", 2, "Virtual meeting with managers"),
    ("M1", "managers", "2026-10-07", "assistant team manager", 4, "Virtual meeting with managers"),
    ("M2", "practitioners", "2026-10-08", "social worker", 6, "Virtual meeting with practitioners"),
    ("M2", "practitioners", "2026-10-08", "occupational therapist", 1, "Virtual meeting with practitioners"),
]

CONVERSATIONS = [  # conversation, case_id, who, reviewer, date
    ("V1", "C02", "person", "Rowena Ashdown", "2026-10-09"),
    ("V2", "C07", "carer", "Tobias Wrenfield", "2026-10-12"),
    ("V3", "C12", "person and relative", "Deborah Linfoot", "2026-10-13"),
    ("V4", "C16", "relative", "Helen Marchbank", "2026-10-14"),
    ("V5", "C09", "relative", "Tobias Wrenfield", "2026-10-15"),
]

# note, meeting or conversation, kind, text, speaker_role, stance, codes, use_in_report
NOTES: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("M1-01", "M1", "note", "Managers described Eastvale as a place where people stay: several had trained in the council and been supported to progress into management.", "manager", "strength", "learning; culture", "no"),
    ("M1-02", "M1", "quote", "We grow our own here. I came in as a support worker and nobody ever told me that was as far as I could go.", "manager", "strength", "learning; workforce", "yes"),
    ("M1-03", "M1", "note", "Managers said the Good Lives framework gave teams a shared language for strengths-based practice, but that it had landed unevenly: teams with an active strengths champion were further ahead.", "manager", "mixed", "practice-model", "no"),
    ("M1-04", "M1", "quote", "The framework is on the wall in every office. Whether it is in every assessment is a different question.", "manager", "mixed", "practice-model; quality-assurance", "yes"),
    ("M1-05", "M1", "note", "Assistant team managers had not been trained to supervise and said they had learned by copying the supervision they received themselves.", "manager", "concern", "supervision; learning", "no"),
    ("M1-06", "M1", "quote", "Supervision gets eaten by the caseload. You mean to start with how someone is doing and you end up going through the allocation list.", "manager", "concern", "supervision; workload", "yes"),
    ("M1-07", "M1", "note", "Reflective group supervision was said to work well in the learning disability team, and managers would like it offered across the service.", "manager", "strength", "supervision", "no"),
    ("M1-08", "M1", "note", "Managers described the weekly resource panel as thorough but slow, and said practitioners spent time rewriting cases in the language panel expects.", "manager", "concern", "panel; recording", "no"),
    ("M1-09", "M1", "quote", "Panel asks what the person can't do, because that is what unlocks the money. Then we ask staff to write about strengths. We're giving them two messages.", "manager", "concern", "panel; practice-model", "yes"),
    ("M1-10", "M1", "note", "Managers can approve short-term support without going to panel and would welcome a higher delegated limit for experienced practitioners.", "manager", "mixed", "panel", "no"),
    ("M1-11", "M1", "note", "Managers said sign-off on the recording system was often done in a batch at the end of the week, and accepted that it did not show the conversations they had with staff.", "manager", "concern", "oversight; recording", "no"),
    ("M1-12", "M1", "quote", "Most of my oversight happens at someone's desk or on a video call, and none of it ends up on the record.", "manager", "concern", "oversight", "yes"),
    ("M1-13", "M1", "note", "The monthly case file audit was seen as a good start, but findings were collated centrally and managers rarely saw the themes across the service.", "manager", "mixed", "quality-assurance", "no"),
    ("M1-14", "M1", "note", "The Director was described as visible and approachable and the open question sessions were valued, though managers felt squeezed between senior expectations and pressure on the front line.", "manager", "mixed", "leadership", "no"),
    ("M1-15", "M1", "note", "Managers reported good relationships with the voluntary sector through the community connectors, but said hospital discharge pressure pushed practitioners towards quick, service-led decisions.", "manager", "mixed", "partnership; practice-model", "no"),
    ("M1-16", "M1", "note", "Recruiting experienced social workers to the hospital team remained difficult, and the team had relied on agency staff for part of the year.", "manager", "concern", "workforce", "no"),
    ("M1-17", "M1", "one_change", "A higher delegated funding limit, so that panel spends its time on the complex cases.", "manager", "", "panel", "no"),
    ("M1-18", "M1", "one_change", "Supervision training for assistant team managers, with a focus on reflective supervision.", "manager", "", "supervision; learning", "yes"),
    ("M1-19", "M1", "one_change", "A shorter assessment form that follows the conversation rather than leading it.", "manager", "", "recording; practice-model", "yes"),
    ("M1-20", "M1", "one_change", "Sharing the themes from case file audit with every team each quarter.", "manager", "", "quality-assurance", "yes"),
    ("M1-21", "M1", "one_change", "Protected time for managers to record their oversight properly on the system.", "manager", "", "oversight; workload", "yes"),
    ("M1-22", "M1", "one_change", "Refreshing the community directory with the voluntary sector so that staff can trust it.", "manager", "", "partnership; resources", "yes"),
    ("M2-01", "M2", "quote", "People are genuinely kind here. If you're stuck, someone will sit with you and work it through.", "practitioner", "strength", "culture", "yes"),
    ("M2-02", "M2", "note", "Practitioners said peer support was strong and hybrid working suited them, though newer staff missed learning by listening to colleagues in the office.", "practitioner", "mixed", "culture; learning", "no"),
    ("M2-03", "M2", "note", "Practitioners valued the two-day strengths-based practice course; those who joined after it stopped running had picked the approach up from colleagues.", "practitioner", "mixed", "learning; practice-model", "no"),
    ("M2-04", "M2", "quote", "I was taught to have the conversation first and fill in the form afterwards. That changed how I work more than anything.", "practitioner", "strength", "practice-model; recording", "yes"),
    ("M2-05", "M2", "quote", "The form is enormous if you fill every box. You can have a brilliant conversation and still end up writing a list of what's wrong.", "practitioner", "concern", "recording; practice-model", "yes"),
    ("M2-06", "M2", "note", "Practitioners described duplication between the assessment, the support plan and the panel request, each asking for the same information in a slightly different way.", "practitioner", "concern", "recording; panel", "no"),
    ("M2-07", "M2", "quote", "I spend more time writing for panel than I do with the person.", "practitioner", "concern", "panel; workload", "yes"),
    ("M2-08", "M2", "note", "Practitioners felt panel decisions were fair once made, but that requests were sent back over wording rather than substance.", "practitioner", "mixed", "panel", "no"),
    ("M2-09", "M2", "note", "Most practitioners had monthly supervision, but some said theirs had been cancelled repeatedly over the summer when their team was short of staff.", "practitioner", "concern", "supervision; workforce", "no"),
    ("M2-10", "M2", "quote", "Supervision is good when it happens. It's the first thing to go when the team is short.", "practitioner", "concern", "supervision; workload", "yes"),
    ("M2-11", "M2", "note", "Practitioners said occupational therapy was often asked to assess after a care package had been agreed, so enablement was considered late.", "practitioner", "concern", "practice-model", "no"),
    ("M2-12", "M2", "note", "Caseloads were described as manageable in most teams, but the review backlog in the community team meant many reviews were done by telephone.", "practitioner", "concern", "workload", "no"),
    ("M2-13", "M2", "quote", "We've got lovely things on our doorstep, but the directory is out of date and half the groups folded after the pandemic.", "practitioner", "concern", "partnership; resources", "yes"),
    ("M2-14", "M2", "note", "Practitioners spoke warmly about the community connectors, who introduce people to local groups, but said waiting times for a connector had grown.", "practitioner", "mixed", "partnership; workload", "no"),
    ("M2-15", "M2", "note", "Practitioners did not know what happened to the results of case file audits; feedback reached them only if one of their own cases was picked.", "practitioner", "concern", "quality-assurance", "no"),
    ("M2-16", "M2", "quote", "I had one of my cases audited and got really useful feedback. I didn't know anyone else's had been looked at.", "practitioner", "mixed", "quality-assurance", "no"),
    ("M2-17", "M2", "note", "Practitioners found the Principal Social Worker approachable and visible, and mentioned the practice forum and the monthly practice bulletin.", "practitioner", "strength", "leadership", "no"),
    ("M2-18", "M2", "note", "Practitioners felt trusted to make professional judgements day to day, but not trusted with decisions about funding.", "practitioner", "mixed", "panel; culture", "no"),
    ("M2-19", "M2", "note", "Practitioners said interpreters were hard to book at short notice, which sometimes meant relying on family members to interpret at assessments.", "practitioner", "concern", "equality; resources", "no"),
    ("M2-20", "M2", "quote", "The training that stuck with me was hearing from people who use services about what a good assessment felt like to them.", "practitioner", "strength", "learning; practice-model", "yes"),
    ("M2-21", "M2", "one_change", "One document for the assessment, the support plan and the panel request.", "practitioner", "", "recording; panel", "yes"),
    ("M2-22", "M2", "one_change", "Supervision that is protected and not cancelled when the team is busy.", "practitioner", "", "supervision", "yes"),
    ("M2-23", "M2", "one_change", "Bringing back the strengths-based practice course for new starters.", "practitioner", "", "learning; practice-model", "yes"),
    ("M2-24", "M2", "one_change", "Involving occupational therapy earlier, before a care package is agreed.", "practitioner", "", "practice-model", "yes"),
    ("M2-25", "M2", "one_change", "Hearing the results of case file audits, not just about our own cases.", "practitioner", "", "quality-assurance", "yes"),
    ("M2-26", "M2", "one_change", "More time with people and less time writing for panel.", "practitioner", "", "panel; workload", "yes"),
    ("M2-27", "M2", "one_change", "Being able to book an interpreter at short notice.", "practitioner", "", "equality; resources", "no"),
    ("V1-01", "V1", "quote", "They listened to what I wanted, not what everyone else wanted for me.", "person", "strength", "i2", "yes"),
    ("V1-02", "V1", "note", "The person said they had practised the bus journey with support and now travel to their work placement on their own.", "person", "strength", "i2; i4", "no"),
    ("V2-01", "V2", "quote", "For the first time someone asked me how I was coping, not just how he was.", "carer", "strength", "carers", "yes"),
    ("V2-02", "V2", "note", "The carer did not know who to call if they were suddenly taken ill, and was unsure whether a contingency plan existed.", "carer", "concern", "carers; i4", "no"),
    ("V3-01", "V3", "quote", "We were given the choice to employ our own personal assistants, and someone walked us through all the paperwork.", "person", "strength", "i2; i3", "yes"),
    ("V3-02", "V3", "note", "The person's partner said the lift took several months to be installed, which delayed the person's return to work.", "relative", "concern", "i1; i5", "no"),
    ("V4-01", "V4", "quote", "Mum still walks the dog every morning. That was the thing she was most frightened of losing.", "relative", "strength", "i2", "yes"),
    ("V4-02", "V4", "note", "The relative would have liked more information about what to expect as the dementia progresses, and help to plan ahead.", "relative", "concern", "i3; i4", "no"),
    ("V5-01", "V5", "quote", "Everyone talked to each other. The hospital, the therapists and the social worker all knew what was going on.", "relative", "strength", "i1; i5", "yes"),
    ("V5-02", "V5", "note", "The relative said they had once had to chase the duty team for a reply, but were otherwise well informed.", "relative", "mixed", "i1; i3", "no"),
]


# ---------------------------------------------------------------------------------------------
def slug(name: str) -> str:
    """'Rowena Ashdown' -> 'rowena-ashdown', the ratings file's name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _matrix() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in MATRIX.strip().splitlines():
        case_id, questions, overall = line.split()
        assert len(questions) == len(QUESTIONS), case_id
        rows[case_id] = (questions, overall)
    return rows


class _Decks:
    """Draw comment variants without repeats until a bank is used up, then reshuffle."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.decks: dict[tuple[str, str], list[str]] = {}

    def draw(self, question: str, level: str) -> str:
        deck = self.decks.setdefault((question, level), [])
        if not deck:
            deck.extend(BANKS[question][level])
            self.rng.shuffle(deck)
        return deck.pop()


def _fill(template: str, profile: dict[str, str]) -> str:
    slots = dict(profile)
    slots.update({f"{k}_cap": v[:1].upper() + v[1:] for k, v in profile.items()})
    carer = profile["carer"]
    slots["carer_pos"] = carer + ("'" if carer.endswith("s") else "'s")
    return template.format_map(slots)


def ratings_rows(meta: dict) -> dict[str, list[list[str]]]:
    """Every reviewer's rating rows (case_id, reviewer, question, rating, comment)."""
    matrix = _matrix()
    rng = random.Random(SEED)
    decks = _Decks(rng)
    out: dict[str, list[list[str]]] = {}
    allocations = [(c["id"], c["reviewer"]) for c in meta["cases"]]
    allocations += [(c["id"], m) for c in meta["cases"] for m in c.get("moderators", [])]
    for case_id, reviewer in allocations:
        questions, overall = matrix[case_id]
        levels = dict(zip(QUESTIONS, questions))
        levels.update(MODERATION_DIFFS.get((case_id, reviewer), {}))
        rows = out.setdefault(reviewer, [])
        for q in QUESTIONS:
            comment = _fill(decks.draw(q, levels[q]), PROFILES[case_id])
            rows.append([case_id, reviewer, q, LEVELS[levels[q]], comment])
        rows.append([case_id, reviewer, "overall", LEVELS[overall], OVERALL[(case_id, reviewer)]])
    return out


def _csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _workbook_bytes(meta: dict, reviewer: str, rows: list[list[str]]) -> bytes:
    """The offline reviewer's audit workbook, written by the kit (``reviewkit workbook``) and
    filled in as they would in Excel: a rating and evidence on each row, each case marked
    complete and not referred back on the Cases sheet."""
    import tempfile

    from reviewkit.intake.workbook import write_workbook
    from reviewkit.review.reviewyaml import parse_meta
    from reviewkit.review.workspace import create_workspace

    parsed = parse_meta(meta, "review.yaml")
    host = next((m.name for m in parsed.team if m.role == "host"), None)
    with tempfile.TemporaryDirectory() as tmp:
        ws = create_workspace(Path(tmp) / "ws", council=parsed.council, theme=parsed.theme, tool=parsed.tool,
                              reviewers=parsed.reviewers, host=host)
        ws.meta = parsed
        ws.save_meta()
        out = write_workbook(ws, reviewer, Path(tmp) / "workbook.xlsx")
        wb = openpyxl.load_workbook(out)
    given = {(case, question): (rating, comment) for case, _, question, rating, comment in rows}
    sheet = wb["Ratings"]
    header = [c.value for c in sheet[1]]
    at = {name: header.index(name) + 1 for name in ("case_id", "question", "rating", "comment")}
    filled = 0
    for r in range(2, sheet.max_row + 1):
        key = (sheet.cell(r, at["case_id"]).value, sheet.cell(r, at["question"]).value)
        if key in given:
            rating, comment = given.pop(key)
            sheet.cell(r, at["rating"]).value = rating
            sheet.cell(r, at["comment"]).value = comment or None
            filled += 1
    assert not given, f"ratings with no row in {reviewer}'s workbook: {sorted(given)[:3]}"
    cases = wb["Cases"]
    header = [c.value for c in cases[1]]
    for r in range(2, cases.max_row + 1):
        cases.cell(r, header.index("complete") + 1).value = "yes"
        cases.cell(r, header.index("referred_back") + 1).value = "no"
    raw = io.BytesIO()
    wb.save(raw)
    return _stable_xlsx(raw.getvalue())


def _stable_xlsx(data: bytes) -> bytes:
    """The workbook's bytes with fixed timestamps inside and on each entry."""
    raw = io.BytesIO(data)
    stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % XLSX_TIME
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{stamp}\g<3>", text)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(item.filename, date_time=XLSX_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zout.writestr(info, data)
    return out.getvalue()


# The previous review's action plan as Eastvale kept it: owner, by when, measure and status for
# each recommendation in review.yaml's previous_review (whose text, update and status it carries).
PLAN = [
    ("Head of Adult Social Care", "2025-03-31", "Every team has a strengths champion; framework used in audits"),
    ("Principal Social Worker", "2025-09-30", "A shorter assessment form agreed with practitioners"),
    ("Service managers", "2023-12-31", "Supervision compliance above 90% in every team"),
    ("Service managers", "2024-06-30", "Management oversight recorded on 90% of audited records"),
    ("Principal Social Worker", "2025-06-30", "Monthly audit in place; findings shared with every team"),
    ("Head of Commissioning", "2023-09-30", "Community connectors service commissioned and used"),
    ("Head of Adult Social Care", "2024-03-31", "Panel terms of reference refreshed; delegated limits reviewed"),
    ("Carers Lead", "2025-03-31", "Carers' assessments within 28 days; contingency plans recorded"),
]


def _plan_bytes(meta: dict) -> bytes:
    """The previous review's action plan (.xlsx), written by the kit itself from review.yaml."""
    import tempfile

    from reviewkit.intake.actionplan import ActionPlan, PlanRow, write_plan

    prev = meta["previous_review"]
    recs = prev["recommendations"]
    assert len(recs) == len(PLAN), "PLAN needs one row per previous recommendation"
    rows = tuple(PlanRow(i, " ".join(r["text"].split()), owner, when, measure, r.get("status", ""),
                         " ".join(r.get("update", "").split()), start=r.get("start", ""))
                 for i, (r, (owner, when, measure)) in enumerate(zip(recs, PLAN), 1))
    plan = ActionPlan(meta["council"], prev["date"], rows)
    with tempfile.TemporaryDirectory() as tmp:
        out = write_plan(plan, Path(tmp) / "plan.xlsx")
        return _stable_xlsx(out.read_bytes())


# A risk to a person found during the review, raised with the council at once, and the council's
# response as the host recorded it (private: the report gives only the count, the days taken and the outcome).
CONCERNS = [  # case_id, reviewer, concern, raised_on, raised_with, response, outcome, responded_on
    ("C17", "Helen Marchbank",
     "Self-neglect with a serious risk of fire in the home; no management decision recorded for several weeks and "
     "no recent visit.", "2026-10-07", "team manager",
     "A senior practitioner visited the next day, a fire service home safety visit was arranged and the case is now "
     "discussed in weekly supervision.", "acted", "2026-10-09"),
]


# The calibration round: one fictional record every reviewer rated on their own before rating a case.
CAL_RECORD = "CAL1"
CAL_BASE = dict(zip([*QUESTIONS, "overall"], "GGRGGOGGGRGGG"))  # what most of the team gave
CAL_DIFFS = {  # reviewer -> question -> their own rating where it differed (one level either side)
    "Rowena Ashdown": {"q3": "G"},
    "Tobias Wrenfield": {"q7": "R", "q11": "R"},
    "Deborah Linfoot": {"q3": "G", "q6": "G"},
    "Helen Marchbank": {},
}
CAL_NOTES = {  # (reviewer, question) -> a note for the discussion
    ("Rowena Ashdown", "q3"): "Strengths are listed and the plan mentions two of them",
    ("Tobias Wrenfield", "q7"): "No sign the plan was reviewed when the support changed",
    ("Deborah Linfoot", "q6"): "The person's own words are quoted but only once",
}
CAL_AGREED = [  # question, agreed rating, the reason the team recorded
    ("q3", "R", "Strengths are listed but do not shape the outcomes in the plan, so Good is not met"),
    ("q6", "O", "The person's words lead the assessment and are used again in the plan"),
    ("q7", "G", "The review date was kept and the change of support was recorded"),
    ("q11", "G", "Oversight is recorded at each decision; one gap is not enough for Requires Improvement"),
    ("overall", "G", "Sound practice with one clear gap on strengths"),
]


def calibration_rows(meta: dict) -> list[list[str]]:
    """Every reviewer's round-1 rating of every question of the calibration record."""
    rows = []
    for reviewer in [m["name"] for m in meta["team"] if m.get("role") in ("visiting", "host")]:
        for q, level in CAL_BASE.items():
            own = CAL_DIFFS[reviewer].get(q, level)
            rows.append([CAL_RECORD, reviewer, q, LEVELS[own], CAL_NOTES.get((reviewer, q), ""), "1"])
    return rows


def build(meta: dict) -> dict[str, bytes]:
    """Relative path -> file content for every generated file."""
    files: dict[str, bytes] = {}
    header = ["case_id", "reviewer", "question", "rating", "comment"]
    for reviewer, rows in ratings_rows(meta).items():
        if reviewer == OFFLINE_REVIEWER:
            files[f"ratings/{slug(reviewer)}.xlsx"] = _workbook_bytes(meta, reviewer, rows)
        else:
            files[f"ratings/{slug(reviewer)}.csv"] = _csv_bytes(header, rows)
    pairs = [(c["id"], c["reviewer"]) for c in meta["cases"]]
    pairs += [(c["id"], m) for c in meta["cases"] for m in c.get("moderators", [])]
    files["case_flags.csv"] = _csv_bytes(  # the offline reviewer's are on their workbook's Cases sheet
        ["case_id", "reviewer", "referred_back", "reason", "complete"],
        [[cid, who, "no", "", "yes"] for cid, who in sorted(pairs) if who != OFFLINE_REVIEWER])
    files["meetings.csv"] = _csv_bytes(["meeting", "kind", "date", "role", "attendees", "title"],
                                       [list(m) for m in MEETINGS])
    files["conversations.csv"] = _csv_bytes(["conversation", "case_id", "who", "reviewer", "date"],
                                            [list(c) for c in CONVERSATIONS])
    note_rows = []
    for ref, source, kind, text, role, stance, codes, use in NOTES:
        meeting, conversation = (source, "") if source.startswith("M") else ("", source)
        note_rows.append([ref, meeting, conversation, kind, text, role, stance, codes, use])
    files["notes.csv"] = _csv_bytes(
        ["note", "meeting", "conversation", "kind", "text", "speaker_role", "stance", "codes", "use_in_report"],
        note_rows)
    files["concerns.csv"] = _csv_bytes(
        ["case_id", "reviewer", "concern", "raised_on", "raised_with", "response", "outcome", "responded_on"],
        [list(c) for c in CONCERNS])
    files["previous_action_plan.xlsx"] = _plan_bytes(meta)
    files["calibration.csv"] = _csv_bytes(["calibration_record", "reviewer", "question", "rating", "comment", "round"],
                                          calibration_rows(meta))
    files["calibration_agreed.csv"] = _csv_bytes(["calibration_record", "question", "rating", "note"],
                                                 [[CAL_RECORD, q, LEVELS[v], note] for q, v, note in CAL_AGREED])
    return files


def check(meta: dict) -> None:
    """Refuse to write a sample that drifts from what it is meant to show."""
    matrix = _matrix()
    cases = [c["id"] for c in meta["cases"]]
    assert sorted(cases) == sorted(matrix) == sorted(PROFILES), "cases, MATRIX and PROFILES disagree"
    pooled = Counter(ch for q, _ in matrix.values() for ch in q)
    scored = sum(n for k, n in pooled.items() if k != "N")
    shares = {k: pooled[k] / scored for k in "OGRI"}
    assert 0.20 <= shares["O"] <= 0.27 and 0.58 <= shares["G"] <= 0.62, shares
    assert 0.13 <= shares["R"] <= 0.17 and shares["I"] <= 0.01, shares
    overall = Counter(o for _, o in matrix.values())
    assert overall["G"] == 13 and overall["R"] == 2 and overall["I"] == 0, overall
    for (case_id, reviewer), diffs in MODERATION_DIFFS.items():
        assert any(c["id"] == case_id and reviewer in c.get("moderators", []) for c in meta["cases"])
        base = dict(zip(QUESTIONS, matrix[case_id][0]))
        order = "OGRI"
        assert all(abs(order.index(base[q]) - order.index(v)) == 1 for q, v in diffs.items()), case_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REVIEW_DIR,
                        help="folder to write into (default: sample_data/eastvale-2026)")
    args = parser.parse_args(argv)
    meta = yaml.safe_load((REVIEW_DIR / "review.yaml").read_text(encoding="utf-8"))
    check(meta)
    files = build(meta)
    for rel, data in files.items():
        target = args.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
