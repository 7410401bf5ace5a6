"""The fact catalogue: every name a criterion may use, defined once.

Base facts read the case (paths and aggregates over its lists); derived facts are expressions
in the criteria language over other facts and policy parameters. Thresholds that sources
disagree on are *parameters* (content/parameters.yaml, values per policy profile), never
numbers here. docs/facts.md is generated from this catalogue and checked by a test.
"""

from __future__ import annotations

from typing import get_args

from spinepath.case.model import TreatmentKind
from spinepath.case.spec import (
    Agg,
    All,
    Any_,
    CasePath,
    Cmp,
    Derived,
    FactDef,
    InCaseList,
    LatestValue,
    Lit,
    MonthsSinceLatest,
    OneOf,
    PainMap,
    Param,
    Path,
)

#: Conservative care = every treatment kind in the case contract except the trigeminal
#: neuralgia drug trial, which is tracked on its own (tn_drug_tried).
CONSERVATIVE_KINDS: tuple[str, ...] = tuple(
    k for k in get_args(TreatmentKind) if k != "carbamazepine_or_oxcarbazepine"
)
_LOWER_LIMB_ROOTS = ("L1", "L2", "L3", "L4", "L5", "S1", "S2")
_HERNIATION = ("protrusion", "extrusion", "sequestration")

#: Procedure families whose history drives repeat-treatment rules: family -> procedure ids.
PROCEDURE_FAMILIES: dict[str, tuple[str, ...]] = {
    "esi": ("esi-interlaminar", "esi-transforaminal", "esi-caudal"),
    "facet_rf_lumbar": ("rf-facet-lumbar",),
    "facet_rf_cervical": ("rf-facet-cervical",),
    "adhesiolysis": ("epidural-adhesiolysis", "balloon-neuroplasty"),
    "epiduroscopy": ("elnd",),
    "trigeminal_rf": ("rf-trigeminal",),
    "ulnar_injection": ("ulnar-perineural-injection",),
    "endoscopic_discectomy": (
        "endoscopic-discectomy-transforaminal",
        "endoscopic-discectomy-interlaminar",
    ),
}


def _b(name: str, path: str, doc: str, ask: str) -> FactDef:
    return FactDef(name, "bool", Path(path), doc, ask)


def _n(name: str, path: str, doc: str, ask: str) -> FactDef:
    return FactDef(name, "number", Path(path), doc, ask)


def _pm(name: str, typ: str, path: str, absent: object, doc: str = "", ask: str = "",
        blank: bool = False) -> FactDef:
    note = " Pain-map contract: a site the map leaves unmarked has no pain."
    return FactDef(name, typ, PainMap(path, absent, blank), doc + note, ask)  # type: ignore[arg-type]


def _imaging(name: str, where: object, doc: str, ask: str) -> FactDef:
    return FactDef(name, "bool", Agg("imaging", "exists", where), doc, ask)  # type: ignore[arg-type]


def _side_matches(pain_site: str) -> Any_:
    return Any_(
        (
            OneOf("side", ("central", "bilateral")),
            Cmp("side", "=", CasePath(f"pain.{pain_site}.side")),
        )
    )


def _family_facts(family: str, ids: tuple[str, ...]) -> list[FactDef]:
    where = OneOf("procedure", ids)
    label = family.replace("_", " ")
    return [
        FactDef(
            f"prior_{family}_count",
            "number",
            Agg("procedures", "count", where),
            f"Number of prior procedures in the {label} family ({', '.join(ids)}).",
            "Which spine or nerve procedures has the patient had before?",
        ),
        FactDef(
            f"months_since_last_{family}",
            "number",
            MonthsSinceLatest("procedures", where),
            f"Months since the most recent {label} procedure (unknown if any has no date).",
            f"When was the last {label} procedure?",
        ),
        FactDef(
            f"last_{family}_relief_pct",
            "number",
            LatestValue("procedures", "relief_pct", where),
            f"Pain relief (%) reported after the most recent {label} procedure.",
            f"How much relief (%) did the last {label} procedure give?",
        ),
        FactDef(
            f"last_{family}_relief_months",
            "number",
            LatestValue("procedures", "relief_months", where),
            f"How many months the relief after the most recent {label} procedure lasted.",
            f"How long did relief after the last {label} procedure last?",
        ),
    ]


def build_catalogue(antithrombotic_names: tuple[str, ...] = ()) -> dict[str, FactDef]:
    """All facts, keyed by name. ``antithrombotic_names`` come from content (drug table)."""
    facts: list[FactDef] = [
        # --- who
        _n("age", "age", "Age in years.", "How old is the patient?"),
        _b("pregnant", "pregnant", "Currently pregnant.", "Is the patient pregnant?"),
        # --- pain map
        _pm("back_pain_nrs", "number", "back.nrs", 0, "Low back pain, NRS 0-10.", "Back pain score (0-10)?"),
        _pm("leg_pain_nrs", "number", "leg.nrs", 0, "Leg pain, NRS 0-10.", "Leg pain score (0-10)?"),
        _pm("neck_pain_nrs", "number", "neck.nrs", 0, "Neck pain, NRS 0-10.", "Neck pain score (0-10)?"),
        _pm("arm_pain_nrs", "number", "arm.nrs", 0, "Arm pain, NRS 0-10.", "Arm pain score (0-10)?"),
        _pm("face_pain_nrs", "number", "face.nrs", 0, "Facial pain, NRS 0-10.", "Facial pain score (0-10)?"),
        FactDef("face_pain_side", "text", PainMap("face.side", None),
                "Side of facial pain: left, right or bilateral.", "Which side is the facial pain?"),
        _pm("leg_pain_below_knee", "bool", "leg.below_knee", False, "Leg pain reaches below the knee.",
           "Does the leg pain go below the knee?"),
        FactDef("leg_pain_dermatomal", "bool", Agg("pain.leg.dermatomes", "exists"),
                "Leg pain follows at least one named dermatome.",
                "Does the leg pain follow a dermatome (which root)?"),
        FactDef("arm_pain_dermatomal", "bool", Agg("pain.arm.dermatomes", "exists"),
                "Arm pain follows at least one named dermatome.",
                "Does the arm pain follow a dermatome (which root)?"),
        _n("pain_duration_weeks", "pain.duration_weeks", "Weeks since this episode began.",
           "How many weeks has this episode of pain lasted?"),
        _b("neurogenic_claudication", "pain.neurogenic_claudication",
           "Leg symptoms on walking/standing, eased by sitting or bending forward.",
           "Do walking or standing bring on leg pain that eases on sitting?"),
        _pm("ulnar_sensory_symptoms", "bool", "ulnar_sensory_symptoms", False,
            "Numbness or tingling in the ring and little fingers.",
            "Numbness or tingling in the ring and little fingers?", blank=True),
        _pm("face_pain_paroxysmal", "bool", "face.paroxysmal", False,
           "Facial pain comes in brief electric-shock-like attacks (ICHD-3 feature).",
           "Does the facial pain come in brief electric-shock attacks?"),
        _pm("face_pain_triggered", "bool", "face.triggered", False,
           "Attacks triggered by innocuous stimuli such as touch, chewing or brushing teeth.",
           "Are attacks set off by touch, chewing, talking or brushing teeth?"),
        # --- neurology
        FactDef("lower_limb_min_mrc", "number",
                Agg("neuro.motor", "min", OneOf("myotome", _LOWER_LIMB_ROOTS), "mrc"),
                "Weakest lower-limb myotome strength (MRC 0-5) on examination.",
                "Lower-limb muscle strength (MRC 0-5) by myotome?"),
        FactDef("upper_limb_min_mrc", "number",
                Agg("neuro.motor", "min",
                    OneOf("myotome", ("C5", "C6", "C7", "C8", "T1")), "mrc"),
                "Weakest upper-limb myotome strength (MRC 0-5) on examination.",
                "Upper-limb muscle strength (MRC 0-5) by myotome?"),
        _b("progressive_weakness", "neuro.progressive_weakness", "Weakness that is getting worse.",
           "Is any weakness getting worse?"),
        _b("bilateral_leg_weakness", "neuro.bilateral_leg_weakness", "Weakness in both legs.",
           "Is there weakness in both legs?"),
        _b("straight_leg_raise_positive", "neuro.straight_leg_raise_positive",
           "Straight-leg raise reproduces the leg pain.", "Is the straight-leg raise positive?"),
        _b("hyperreflexia", "neuro.hyperreflexia", "Brisk reflexes.", "Are reflexes brisk?"),
        _b("hoffmann_sign", "neuro.hoffmann_sign", "Positive Hoffmann sign.",
           "Is the Hoffmann sign positive?"),
        _b("gait_disturbance", "neuro.gait_disturbance", "Unsteady or changed gait.",
           "Is walking unsteady or changed?"),
        _b("hand_clumsiness", "neuro.hand_clumsiness", "Clumsy hands.", "Are the hands clumsy?"),
        _b("bilateral_hand_numbness", "neuro.bilateral_hand_numbness", "Numbness in both hands.",
           "Is there numbness in both hands?"),
        _b("facial_sensory_deficit", "neuro.facial_sensory_deficit",
           "Reduced sensation in the trigeminal territory on examination.",
           "Is facial sensation reduced on examination?"),
        _b("abnormal_trigeminal_reflexes", "neuro.abnormal_trigeminal_reflexes",
           "Abnormal trigeminal reflexes.", "Are trigeminal reflexes abnormal?"),
        _b("hand_intrinsic_weakness", "neuro.hand_intrinsic_weakness",
           "Weakness of the small hand muscles.", "Are the small hand muscles weak?"),
        _b("hand_muscle_wasting", "neuro.hand_muscle_wasting", "Wasting of the small hand muscles.",
           "Is there wasting of the small hand muscles?"),
    ]
    # --- red-flag symptoms and history: one fact per field, same name
    for name, doc in [
        ("saddle_anaesthesia", "Numbness or altered feeling in the saddle (perianal/genital) area."),
        ("urinary_retention_or_new_difficulty", "New difficulty passing urine or reduced sensation of flow."),
        ("bowel_incontinence_or_loss_of_rectal_sensation", "Loss of bowel control or of rectal fullness sensation."),
        ("reduced_anal_tone", "Reduced anal tone on examination."),
        ("new_sexual_dysfunction", "New sexual dysfunction."),
        ("bilateral_sciatica", "Sciatica in both legs."),
        ("fever", "Fever or systemic illness."),
        ("iv_drug_use", "Intravenous drug use."),
        ("immunosuppression", "Immunosuppressed (drugs or disease)."),
        ("recent_bacteraemia_or_infection", "Recent bacteraemia or serious infection."),
        ("recent_spinal_procedure", "Spinal procedure in recent weeks."),
        ("tb_risk", "Risk factors for tuberculosis."),
        ("history_of_cancer", "Past history of cancer."),
        ("unexplained_weight_loss", "Unexplained weight loss."),
        ("night_pain", "Pain at night that does not ease with rest."),
        ("significant_trauma", "Significant trauma before the pain began."),
        ("prolonged_corticosteroid_use", "Prolonged use of corticosteroids."),
        ("osteoporosis", "Known osteoporosis."),
        ("bilateral_trigeminal_symptoms", "Facial pain on both sides."),
    ]:
        facts.append(_b(name, f"red_flags.{name}", doc, doc.rstrip(".") + "?"))
    # --- comorbidities, allergies, preferences
    for name, doc in [
        ("diabetes", "Diabetes."),
        ("diabetes_poorly_controlled", "Poorly controlled diabetes."),
        ("coagulopathy", "Uncorrected bleeding disorder."),
        ("local_infection_at_site", "Infection at or near the planned needle or incision site."),
        ("systemic_infection", "Systemic infection."),
        ("heart_failure", "Congestive heart failure."),
        ("implanted_device", "Pacemaker, defibrillator or neurostimulator."),
        ("renal_impairment", "Chronic kidney disease."),
        ("liver_disease", "Chronic liver disease or cirrhosis."),
        ("multiple_sclerosis", "Multiple sclerosis."),
        ("cannot_lie_prone", "Cannot lie face down for the procedure."),
        ("cannot_cooperate_awake_testing", "Cannot cooperate with awake sensory testing."),
        ("psychological_distress", "Marked psychological distress."),
    ]:
        facts.append(_b(name, f"comorbidities.{name}", doc, doc.rstrip(".") + "?"))
    for allergy in ("contrast", "local_anaesthetic", "corticosteroid", "hyaluronidase"):
        facts.append(FactDef(
            f"{allergy}_allergy", "bool",
            Agg("allergies", "exists", Cmp("@", "=", Lit(allergy))),
            f"Allergy to {allergy.replace('_', ' ')} (unknown if allergies were not recorded).",
            "Any allergies (contrast, local anaesthetic, steroid, hyaluronidase)?"))
    facts += [
        _b("declines_injections", "preferences.declines_injections",
           "The patient does not want injections.", "Would the patient accept an injection?"),
        _b("declines_surgery", "preferences.declines_surgery",
           "The patient does not want surgery.", "Would the patient consider surgery?"),
        FactDef("takes_antithrombotic", "bool",
                Agg("medicines", "exists", OneOf("name", antithrombotic_names)),
                "Takes a medicine listed in the antithrombotic table (content).",
                "Does the patient take blood thinners (anticoagulant or antiplatelet)?"),
    ]
    # --- imaging
    lumbar = OneOf("region", ("lumbar", "sacral"))
    cervical = OneOf("region", ("cervical",))
    facts += [
        _imaging("imaging_done", OneOf("modality", ("mri", "ct")),
                 "MRI or CT findings are recorded.", "Has the patient had MRI or CT?"),
        _imaging("lumbar_disc_herniation", All((lumbar, OneOf("morphology", _HERNIATION))),
                 "Lumbar disc herniation (protrusion, extrusion or sequestration; Fardon 2014).",
                 "Does lumbar MRI show a disc herniation?"),
        _imaging("cervical_disc_herniation", All((cervical, OneOf("morphology", _HERNIATION))),
                 "Cervical disc herniation.", "Does cervical MRI show a disc herniation?"),
        _imaging("lumbar_sequestration", All((lumbar, OneOf("morphology", ("sequestration",)))),
                 "Sequestered lumbar disc fragment.", "Is there a sequestered fragment?"),
        _imaging("lumbar_imaging_concordant",
                 All((lumbar, InCaseList("root_compressed", "pain.leg.dermatomes"),
                      _side_matches("leg"))),
                 "Lumbar imaging shows compression of a root whose dermatome the leg pain "
                 "follows, on the same side (or central/bilateral).",
                 "Does imaging show compression of the root matching the leg pain (level and side)?"),
        _imaging("cervical_imaging_concordant",
                 All((cervical, InCaseList("root_compressed", "pain.arm.dermatomes"),
                      _side_matches("arm"))),
                 "Cervical imaging shows compression of the root matching the arm pain and side.",
                 "Does imaging show compression of the root matching the arm pain?"),
        _imaging("lumbar_central_stenosis",
                 All((lumbar, OneOf("central_stenosis", ("moderate", "severe")))),
                 "Moderate or severe central lumbar canal stenosis.",
                 "Does lumbar imaging show central canal stenosis (grade)?"),
        _imaging("lumbar_foraminal_stenosis",
                 All((lumbar, OneOf("foraminal_stenosis", ("mild", "moderate", "severe")))),
                 "Lumbar foraminal stenosis of any grade.",
                 "Does lumbar imaging show foraminal stenosis (grade)?"),
        _imaging("lumbar_foraminal_stenosis_mild",
                 All((lumbar, OneOf("foraminal_stenosis", ("mild",)))),
                 "Mild lumbar foraminal stenosis.", "Is the foraminal stenosis mild?"),
        _imaging("lumbar_facet_arthropathy", All((lumbar, Cmp("facet_arthropathy", "=", Lit(True)))),
                 "Lumbar facet joint arthropathy on imaging.", "Facet arthropathy on lumbar imaging?"),
        _imaging("cervical_facet_arthropathy",
                 All((cervical, Cmp("facet_arthropathy", "=", Lit(True)))),
                 "Cervical facet joint arthropathy on imaging.",
                 "Facet arthropathy on cervical imaging?"),
        _imaging("epidural_fibrosis_on_imaging", Cmp("epidural_fibrosis", "=", Lit(True)),
                 "Epidural fibrosis (scar) on imaging.", "Does imaging show epidural fibrosis?"),
        _imaging("segmental_instability", Cmp("instability", "=", Lit(True)),
                 "Segmental instability or spondylolisthesis needing fusion.",
                 "Is there instability or spondylolisthesis?"),
        _imaging("high_intensity_zone", Cmp("high_intensity_zone", "=", Lit(True)),
                 "High-intensity zone in the disc on MRI.", "Is there a high-intensity zone on MRI?"),
        _imaging("calcified_herniation", Cmp("calcified_herniation", "=", Lit(True)),
                 "Calcified disc herniation.", "Is the herniation calcified?"),
        _imaging("trigeminal_mri_done",
                 All((OneOf("region", ("cranial",)), OneOf("modality", ("mri",)))),
                 "Brain/trigeminal MRI recorded.", "Has a trigeminal MRI been done?"),
        _imaging("trigeminal_neurovascular_contact",
                 All((OneOf("region", ("cranial",)), Cmp("neurovascular_contact", "=", Lit(True)))),
                 "Neurovascular contact with the trigeminal root on MRI.",
                 "Does MRI show neurovascular contact with the trigeminal root?"),
        _imaging("secondary_cause_on_imaging", Cmp("secondary_cause", "=", Lit(True)),
                 "Imaging shows a structural cause (tumour, MS plaque).",
                 "Does imaging show a tumour or MS plaque?"),
        _imaging("ulnar_entrapment_confirmed",
                 All((OneOf("region", ("elbow",)), Cmp("ulnar_nerve_entrapment", "=", Lit(True)))),
                 "Ulnar neuropathy at the elbow confirmed by ultrasound or nerve conduction.",
                 "Is ulnar entrapment confirmed on ultrasound or nerve conduction?"),
        _imaging("severe_ulnar_neuropathy", Cmp("severe_ulnar_neuropathy", "=", Lit(True)),
                 "Severe ulnar neuropathy on testing.", "Is the ulnar neuropathy severe on testing?"),
    ]
    # --- treatments
    facts += [
        FactDef("conservative_care_weeks", "number",
                Agg("treatments", "max", OneOf("kind", CONSERVATIVE_KINDS), "weeks", empty=0),
                "Longest documented course of conservative care, in weeks (courses overlap, "
                "so the longest is used, not the sum).",
                "How many weeks of conservative care (physiotherapy, exercise, medicines)?"),
        FactDef("conservative_care_helping", "bool",
                Agg("treatments", "exists",
                    All((OneOf("kind", CONSERVATIVE_KINDS), OneOf("response", ("good",))))),
                "Some conservative treatment is giving a good response.",
                "Is conservative care helping (response: none, partial, good)?"),
        FactDef("physiotherapy_weeks", "number",
                Agg("treatments", "max", OneOf("kind", ("physiotherapy", "exercise")), "weeks", empty=0),
                "Longest documented course of physiotherapy or exercise, in weeks.",
                "How many weeks of physiotherapy or exercise?"),
        FactDef("tn_drug_tried", "bool",
                Agg("treatments", "exists", OneOf("kind", ("carbamazepine_or_oxcarbazepine",))),
                "Carbamazepine or oxcarbazepine has been tried.",
                "Has carbamazepine or oxcarbazepine been tried?"),
        FactDef("tn_drug_failed_or_not_tolerated", "bool",
                Agg("treatments", "exists",
                    All((OneOf("kind", ("carbamazepine_or_oxcarbazepine",)),
                         Any_((OneOf("response", ("none", "partial")),
                               Cmp("tolerated", "=", Lit(False))))))),
                "Carbamazepine/oxcarbazepine gave too little relief or was not tolerated.",
                "Did carbamazepine/oxcarbazepine fail or cause intolerable side effects?"),
    ]
    # --- diagnostic blocks (thresholds are policy parameters)
    for region in ("lumbar", "cervical"):
        mbb = All((OneOf("kind", ("medial_branch_block",)), OneOf("region", (region,))))
        facts += [
            FactDef(f"mbb_{region}_blocks_done", "number", Agg("blocks", "count", mbb),
                    f"Number of {region} diagnostic medial branch blocks recorded.",
                    f"Have diagnostic {region} medial branch blocks been done?"),
            FactDef(f"mbb_{region}_positive_blocks", "number",
                    Agg("blocks", "count",
                        All((mbb, Cmp("relief_pct", ">=", Param("mbb_min_relief_pct"))))),
                    f"{region.title()} medial branch blocks that met the policy's relief "
                    "threshold (mbb_min_relief_pct).",
                    f"What relief (%) did each {region} medial branch block give?"),
            FactDef(f"mbb_{region}_best_relief_pct", "number",
                    Agg("blocks", "max", mbb, "relief_pct"),
                    f"Best relief (%) from any {region} medial branch block.",
                    f"What relief (%) did the {region} medial branch blocks give?"),
        ]
    # --- prior procedures and surgery
    for family, ids in PROCEDURE_FAMILIES.items():
        facts += _family_facts(family, ids)
    lumbar_surgery = All((OneOf("region", ("lumbar",)),
                          OneOf("kind", ("discectomy", "laminectomy", "fusion", "other"))))
    facts += [
        FactDef("prior_lumbar_surgery", "bool", Agg("surgery", "exists", lumbar_surgery),
                "Previous lumbar spine surgery.", "Has the patient had lumbar spine surgery?"),
        FactDef("months_since_lumbar_surgery", "number",
                MonthsSinceLatest("surgery", lumbar_surgery),
                "Months since the most recent lumbar spine surgery.",
                "When was the last lumbar spine surgery?"),
        FactDef("prior_mvd", "bool",
                Agg("surgery", "exists", OneOf("kind", ("microvascular_decompression",))),
                "Previous microvascular decompression for trigeminal neuralgia.",
                "Has the patient had microvascular decompression?"),
    ]
    # --- derived facts (criteria language over the facts above and policy parameters)
    derived = [
        ("radicular_leg_pain", "bool",
         "leg_pain_nrs >= 1 AND leg_pain_nrs >= back_pain_nrs",
         "Leg pain present and at least as bad as back pain (leg-dominant)."),
        ("axial_back_pain", "bool",
         "back_pain_nrs >= 1 AND back_pain_nrs > leg_pain_nrs",
         "Back pain present and worse than any leg pain (back-dominant)."),
        ("radicular_arm_pain", "bool",
         "arm_pain_nrs >= 1 AND arm_pain_nrs >= neck_pain_nrs",
         "Arm pain present and at least as bad as neck pain (arm-dominant)."),
        ("axial_neck_pain", "bool",
         "neck_pain_nrs >= 1 AND neck_pain_nrs > arm_pain_nrs",
         "Neck pain present and worse than any arm pain (neck-dominant)."),
        ("trigeminal_pain_pattern", "bool",
         "face_pain_paroxysmal AND face_pain_triggered",
         "Paroxysmal, triggered facial pain: the core ICHD-3 features of trigeminal neuralgia."),
        ("ulnar_neuropathy_pattern", "bool",
         "ulnar_sensory_symptoms AND ulnar_entrapment_confirmed",
         "Ulnar-territory symptoms with entrapment at the elbow confirmed on testing."),
        ("chronic_pain", "bool", "pain_duration_weeks > chronic_min_weeks",
         "Pain has lasted longer than chronic_min_weeks (ACP: chronic > 12 weeks)."),
        ("severe_leg_pain", "bool", "leg_pain_nrs >= severe_pain_min_nrs",
         "Leg pain at or above the policy's severe band (severe_pain_min_nrs)."),
        ("acute_severe_sciatica", "bool",
         "radicular_leg_pain AND severe_leg_pain AND pain_duration_weeks <= chronic_min_weeks",
         "Leg-dominant sciatica in the severe band that is not yet chronic."),
        ("severe_motor_deficit", "bool", "lower_limb_min_mrc <= severe_motor_max_mrc",
         "A lower-limb myotome at or below severe_motor_max_mrc (e.g. foot drop)."),
        ("conservative_care_failed", "bool",
         "conservative_care_weeks > 0 AND NOT conservative_care_helping",
         "Conservative care was tried and none of it is giving a good response."),
        ("mbb_lumbar_positive", "bool", "mbb_lumbar_positive_blocks >= mbb_required_blocks",
         "Enough lumbar medial branch blocks met the relief threshold (policy: number and %)."),
        ("mbb_cervical_positive", "bool", "mbb_cervical_positive_blocks >= mbb_required_blocks",
         "Enough cervical medial branch blocks met the relief threshold (policy)."),
        ("mbb_lumbar_negative", "bool",
         "mbb_lumbar_blocks_done >= 1 AND mbb_lumbar_best_relief_pct < mbb_min_relief_pct",
         "Lumbar medial branch blocks were done and none reached the relief threshold."),
        ("mbb_cervical_negative", "bool",
         "mbb_cervical_blocks_done >= 1 AND mbb_cervical_best_relief_pct < mbb_min_relief_pct",
         "Cervical medial branch blocks were done and none reached the relief threshold."),
        ("post_surgical_pain", "bool", "prior_lumbar_surgery AND chronic_pain",
         "Chronic pain after lumbar spine surgery (failed back surgery syndrome pattern)."),
    ]
    for name, typ, expr, doc in derived:
        facts.append(FactDef(name, typ, Derived(expr), doc, "See: " + expr))  # type: ignore[arg-type]
    return {f.name: f for f in facts}


FACT_NAMES: frozenset[str] = frozenset(build_catalogue())
