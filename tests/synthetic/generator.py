"""Deterministic synthetic trial articles with known figures, for round-trip tests and benchmark load."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Every trial, drug and sponsor here is invented, so no generated text can pass for a real result.
TARGET_CHARS = 3000
# Several outlets report each trial, with the same figures, as they do in the real world.
ARTICLES_PER_TRIAL = 5
_NAME_LETTERS = "NABCDEFGHJKLMPQRSTUVWXZ"
OUTLETS = ("news", "abstract", "press", "lancet")
NOTATIONS = ("nejm", "to", "equals", "bracket")


@dataclass(frozen=True)
class SyntheticArticle:
    """One generated article: its file name, its text, and the records the text states (gold format)."""

    name: str
    text: str
    truth: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Endpoint:
    code: str
    long: str
    short: str
    measure: str
    kind: str  # "time" (medians in months) or "response" (percentages per arm)


@dataclass(frozen=True)
class Subgroup:
    patients: str  # noun phrase naming the patients ("patients with ESR1-mutated tumors")
    label: str  # the subgroup's own name ("ESR1-mutated"), also the truth label
    variable: str


ONCOLOGY_ENDPOINTS = (
    Endpoint("PFS", "progression-free survival", "PFS", "HR", "time"),
    Endpoint("OS", "overall survival", "OS", "HR", "time"),
    Endpoint("DFS", "disease-free survival", "DFS", "HR", "time"),
    Endpoint("EFS", "event-free survival", "EFS", "HR", "time"),
    Endpoint("ORR", "objective response rate", "ORR", "OR", "response"),
    Endpoint("pCR", "pathological complete response", "pCR", "OR", "response"),
)
CARDIO_ENDPOINTS = (
    Endpoint("MACE", "major adverse cardiovascular events", "MACE", "HR", "rate"),
    Endpoint("HOSP", "hospitalization for heart failure", "HHF", "RR", "rate"),
    Endpoint("MORTALITY", "all-cause mortality", "all-cause mortality", "HR", "rate"),
)
ONCOLOGY_SUBGROUPS = (
    Subgroup("patients with ESR1-mutated tumors", "ESR1-mutated", "ESR1 mutation status"),
    Subgroup("patients with a PD-L1 CPS ≥10", "PD-L1 CPS ≥10", "PD-L1 CPS"),
    Subgroup("patients aged 65 years or older", "age ≥65", "age"),
    Subgroup("patients enrolled in Asia", "Asia", "region"),
    Subgroup("patients with HER2-low disease", "HER2-low", "HER2 status"),
    Subgroup("patients with a BRCA mutation", "BRCA-mutated", "BRCA status"),
    Subgroup("patients previously treated with a CDK4/6 inhibitor", "prior CDK4/6 inhibitor",
             "prior CDK4/6 inhibitor"),
    Subgroup("patients with EGFR-mutant tumors", "EGFR-mutated", "EGFR mutation status"),
    Subgroup("patients with node-positive disease", "node-positive", "nodal status"),
    Subgroup("patients with PIK3CA-mutated tumors", "PIK3CA-mutated", "PIK3CA mutation status"),
)
CARDIO_SUBGROUPS = (
    Subgroup("patients with diabetes", "diabetes", "diabetes"),
    Subgroup("patients aged 65 years or older", "age ≥65", "age"),
    Subgroup("women", "women", "sex"),
    Subgroup("patients enrolled in North America", "North America", "region"),
)
MEASURE_NAMES = {"HR": "hazard ratio", "OR": "odds ratio", "RR": "relative risk"}

CONDITIONS_ONCOLOGY = (
    "advanced breast cancer", "metastatic non-small-cell lung cancer", "early breast cancer",
    "advanced gastric cancer", "metastatic colorectal cancer", "recurrent ovarian cancer",
)
CONDITIONS_CARDIO = ("chronic heart failure", "type 2 diabetes with high cardiovascular risk")
COMPARATORS_ONCOLOGY = ("placebo", "standard chemotherapy", "investigator's choice of therapy", "observation")
COMPARATORS_CARDIO = ("placebo", "usual care")
_STEMS = ("vela", "toru", "mira", "zano", "quel", "beno", "rafi", "sola", "kivo", "dena", "luvo", "pexa")
_SUFFIXES = ("tinib", "ciclib", "mab", "parib", "lisib", "gliflozin", "sertant")
_SPONSORS = ("Synthera Therapeutics", "Northwind Biologics", "Calder Oncology", "Brightfield Pharma")
_PLACES = ("Springfield", "Riverton", "Lakewood", "Fairview")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "September", "October")
_INVESTIGATORS = ("Dr. A. Marlow", "Dr. J. Okafor", "Dr. L. Brandt", "Dr. S. Ivers", "Dr. M. Tanaka")

# Filler prose, free of digits, so every number in an article belongs to a known record.
_FILLER = {
    "news": (
        "The investigators noted that the design allowed crossover only after central review of progression.",
        "Outside experts said the findings, if confirmed, could change how clinicians sequence treatment.",
        "Tumor assessments were performed on a fixed schedule by reviewers who did not know the assigned treatment.",
        "Quality-of-life questionnaires were collected at every visit, and the analysis of those data is ongoing.",
        "Safety findings were in line with what earlier, smaller studies of {drug} had suggested.",
        "The most frequent side effects were fatigue, nausea and laboratory changes that rarely required stopping treatment.",
        "Several clinicians cautioned that longer follow-up is needed before the results reshape guidelines.",
        "Patients were stratified by region and by the extent of prior treatment before randomization.",
        "The trial enrolled patients at academic centers and community practices on several continents.",
        "Discontinuation because of side effects was uncommon in both groups.",
        "The authors acknowledged that the open-label design might have influenced some of the reported outcomes.",
        "An independent data monitoring committee reviewed the accumulating results at prespecified points.",
    ),
    "abstract": (
        "Eligible patients had measurable disease and adequate organ function.",
        "Randomization was stratified according to geographic region and previous therapy.",
        "Efficacy analyses were performed in the intention-to-treat population unless stated otherwise.",
        "Secondary end points included safety, patient-reported outcomes, and duration of treatment.",
        "Adverse events were graded according to standard terminology criteria.",
        "No new safety signals were identified with {drug}.",
        "Treatment continued until disease progression, unacceptable toxic effects, or withdrawal of consent.",
        "Subgroup analyses were prespecified but were not powered for formal comparisons.",
        "Patient-reported outcomes were collected with validated questionnaires.",
        "Dose reductions were more frequent with {drug} than in the control group.",
    ),
    "press": (
        "{sponsor} will discuss the data with regulatory authorities in the coming months.",
        "The company plans to present additional analyses at an upcoming medical meeting.",
        "This press release contains forward-looking statements that involve risks and uncertainties.",
        "Actual results may differ materially from those expressed or implied by such statements.",
        "{sponsor} undertakes no obligation to update any forward-looking statement.",
        "The safety profile of {drug} was consistent with previously reported studies.",
        "{drug} is an investigational medicine and has not been approved by any regulatory authority.",
        "The company thanks the patients, families and investigators who took part in the study.",
        "{sponsor} is a biopharmaceutical company focused on medicines for serious diseases.",
        "Additional information about the study is available from the company's medical information service.",
        "The study is continuing to follow patients for secondary and exploratory end points.",
    ),
    "lancet": (
        "Patients were randomly assigned by an interactive web response system with permuted blocks.",
        "The primary analysis was done in the intention-to-treat population.",
        "Safety was assessed in all patients who received at least one dose of study drug.",
        "The funder had a role in study design and data interpretation but not in data collection.",
        "Adverse events of special interest were adjudicated by an independent committee.",
        "Treatment-related deaths were rare and balanced between groups.",
        "Investigators, patients and the sponsor were masked to group assignment.",
        "Exploratory biomarker analyses will be reported separately.",
        "Findings were consistent across prespecified sensitivity analyses.",
    ),
}


class _Writer:
    """Accumulates article text and the truth records whose spans point into it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.truth: list[dict] = []

    def add(self, text: str, records: list[tuple[dict, int, int]] = ()) -> None:
        for record, start, end in records:
            record["span_start"] = self.length + start
            record["span_end"] = self.length + end
            record["evidence"] = text[start:end]
            self.truth.append(record)
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True)
class _Ratio:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class _Result:
    """What a trial found for one endpoint: the overall ratio, per-arm figures, subgroup ratios."""

    overall: _Ratio
    arms: tuple[float, float]  # experimental, comparator
    subgroups: tuple[tuple[Subgroup, _Ratio], ...]


@dataclass(frozen=True)
class _Trial:
    name: str
    drug: str
    comparator: str
    condition: str
    sponsor: str
    outlet: str
    notation: str
    results: tuple[tuple[Endpoint, _Result], ...]
    n_exp: int
    n_comp: int


def _num(value: float, digits: int, lancet: bool) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", "·") if lancet else text


def _ratio(rng: random.Random, endpoint: Endpoint) -> _Ratio:
    """A plausible ratio with a 95% CI that brackets it strictly after rounding to two decimals."""
    favorable = endpoint.measure == "OR" and endpoint.kind == "response"
    while True:
        log_value = rng.uniform(math.log(0.35), math.log(1.15))
        if favorable:
            log_value = -log_value
        se = rng.uniform(0.06, 0.3)
        value = round(math.exp(log_value), 2)
        low = round(math.exp(math.log(value) - 1.96 * se), 2)
        high = round(math.exp(math.log(value) + 1.96 * se), 2)
        if 0 < low < value < high:
            return _Ratio(value, low, high)


def _p_value(value: float, low: float, high: float) -> tuple[float, str]:
    """The two-sided p implied by the CI, rounded the way journals print it."""
    se = (math.log(high) - math.log(low)) / (2 * 1.959964)
    p = math.erfc(abs(math.log(value) / se) / math.sqrt(2))
    if p < 0.001:
        return 0.001, "<"
    return min(round(p, 3 if p < 0.01 else 2), 0.99), "="


def _p_text(p: float, relation: str, notation: str, lancet: bool) -> str:
    digits = 3 if p < 0.01 else 2
    if lancet:
        return f"p{relation}{_num(p, digits, True)}"
    number = f"{p:.{digits}f}"
    if notation in ("nejm", "bracket"):
        return f"P {relation} {number[1:]}"
    return f"p {relation} {number}"


def _figure(rng: random.Random, trial: _Trial, measure: str, value: float, low: float, high: float,
            p: tuple[float, str] | None) -> str:
    """The estimate in the trial's notation, e.g. 'HR, 0.62; 95% CI, 0.46–0.82; P < .001'."""
    lancet = trial.outlet == "lancet"
    v, lo, hi = (_num(x, 2, lancet) for x in (value, low, high))
    name = rng.choice((measure, MEASURE_NAMES[measure]))
    p_text = _p_text(*p, trial.notation, lancet) if p else None
    if lancet:
        figure = f"{name} {v}, 95% CI {lo}–{hi}"
        return f"{figure}; {p_text}" if p_text else figure
    if trial.notation == "nejm":
        figure = f"{name}, {v}; 95% CI, {lo}–{hi}"
        return f"{figure}; {p_text}" if p_text else figure
    if trial.notation == "to":
        inner = f"95% CI {lo} to {hi}; {p_text}" if p_text else f"95% CI {lo} to {hi}"
        return f"{name} {v} ({inner})"
    if trial.notation == "equals":
        figure = f"{measure} = {v} (95% CI: {lo}, {hi})"
        return f"{figure}, {p_text}" if p_text else figure
    figure = f"{measure} {v} [95% CI {lo}-{hi}]"
    return f"{figure}; {p_text}" if p_text else figure


def _contrast(endpoint: Endpoint, trial: _Trial, value: float, low: float, high: float) -> str:
    """How the sentence words the comparison, in the direction the figures point."""
    benefit = value > 1 if endpoint.measure == "OR" else value < 1
    if not (benefit and (high < 1 or low > 1)):
        return f"did not differ significantly between {trial.drug} and {trial.comparator}"
    adjective = {"time": "longer", "response": "higher"}.get(endpoint.kind, "lower")
    return f"was significantly {adjective} with {trial.drug} than with {trial.comparator}"


_OVERALL_TEMPLATES = (
    "In the intention-to-treat population, {ep} {contrast} ({fig}).",
    "Among all randomized patients, {ep} {contrast} ({fig}).",
    "For {ep} in the overall population, the comparison of {drug} with {comp} gave {fig}.",
)
_SUBGROUP_TEMPLATES = (
    "Among {patients}, {ep} {contrast} ({fig}).",
    "In the {label} subgroup, {ep} {contrast} ({fig}).",
    "For {ep} in {patients}, the comparison of {drug} with {comp} gave {fig}.",
)


def _estimate_sentence(rng: random.Random, trial: _Trial, endpoint: Endpoint, subgroup: Subgroup | None,
                       ratio: _Ratio) -> tuple[str, list[tuple[dict, int, int]]]:
    value, low, high = ratio.value, ratio.low, ratio.high
    p = _p_value(value, low, high) if rng.random() < 0.6 else None
    figure = _figure(rng, trial, endpoint.measure, value, low, high, p)
    templates = _SUBGROUP_TEMPLATES if subgroup else _OVERALL_TEMPLATES
    template = rng.choice(templates)
    filled = template.format(
        ep=endpoint.long, contrast=_contrast(endpoint, trial, value, low, high), drug=trial.drug,
        comp=trial.comparator,
        patients=subgroup.patients if subgroup else "", label=subgroup.label if subgroup else "", fig="\x00",
    )
    filled = filled[0].upper() + filled[1:]
    start = filled.index("\x00")
    sentence = filled.replace("\x00", figure)
    record = {
        "type": "estimate", "endpoint": endpoint.code, "endpoint_text": endpoint.long,
        "population": "subgroup" if subgroup else "overall",
        "subgroup": subgroup.label if subgroup else None,
        "subgroup_variable": subgroup.variable if subgroup else None,
        "comparison": f"{trial.drug} vs {trial.comparator}", "measure": endpoint.measure,
        "value": value, "ci_low": low, "ci_high": high, "ci_level": 95,
        "p": p[0] if p else None, "p_relation": p[1] if p else None,
    }
    return sentence, [(record, start, start + len(figure))]


def _arm_figures(rng: random.Random, endpoint: Endpoint, value: float) -> tuple[float, float]:
    """Per-arm medians (months) or percentages, pointing the same way as the ratio."""
    if endpoint.kind == "time":
        comp = round(rng.uniform(4.0, 24.0), 1)
        return round(comp / value ** 0.6 if value < 1 else comp * rng.uniform(0.9, 1.0), 1), comp
    if endpoint.kind == "response":
        comp = round(rng.uniform(10.0, 45.0), 1)
        return round(min(comp * min(value, 2.0) + rng.uniform(0.5, 3.0), 90.0), 1), comp
    comp = round(rng.uniform(5.0, 25.0), 1)
    return round(comp * value * rng.uniform(0.95, 1.05), 1), comp


def _arm_result_sentence(trial: _Trial, endpoint: Endpoint, arms: tuple[float, float]
                         ) -> tuple[str, list[tuple[dict, int, int]]]:
    lancet = trial.outlet == "lancet"
    exp, comp = arms
    if endpoint.kind == "time":
        statistic, unit, suffix = "median", "months", " months"
        lead = f"Median {endpoint.long} was "
    else:
        statistic, unit, suffix = "percent", "%", "%"
        lead = f"The {endpoint.long} was " if endpoint.kind == "response" else f"The rate of {endpoint.long} was "
    exp_text, comp_text = _num(exp, 1, lancet), _num(comp, 1, lancet)
    sentence = f"{lead}{exp_text}{suffix} with {trial.drug} and {comp_text}{suffix} with {trial.comparator}."
    records = []
    for arm, number, text in ((trial.drug, exp, exp_text), (trial.comparator, comp, comp_text)):
        start = sentence.index(f"{text}{suffix} with {arm}")
        records.append(({
            "type": "arm_result", "endpoint": endpoint.code, "endpoint_text": endpoint.long,
            "population": "overall", "subgroup": None, "arm": arm, "statistic": statistic,
            "value": number, "unit": unit, "ci_low": None, "ci_high": None, "n": None,
        }, start, start + len(text) + len(suffix)))
    return sentence, records


def _arms_sentence(rng: random.Random, trial: _Trial) -> tuple[str, list[tuple[dict, int, int]]]:
    total = trial.n_exp + trial.n_comp
    choice = rng.randrange(3)
    if choice == 0:
        sentence = (f"A total of {total} patients underwent randomization: {trial.n_exp} were assigned to "
                    f"{trial.drug} and {trial.n_comp} to {trial.comparator}.")
        spans = [f"{trial.n_exp} were assigned to {trial.drug}", f"{trial.n_comp} to {trial.comparator}"]
    elif choice == 1:
        sentence = (f"{total} patients were randomly assigned to {trial.drug} (n = {trial.n_exp}) or "
                    f"{trial.comparator} (n = {trial.n_comp}).")
        spans = [f"{trial.drug} (n = {trial.n_exp})", f"{trial.comparator} (n = {trial.n_comp})"]
    else:
        sentence = (f"Of the {total} patients enrolled, {trial.n_exp} were assigned to the {trial.drug} group "
                    f"and {trial.n_comp} to the {trial.comparator} group.")
        spans = [f"{trial.n_exp} were assigned to the {trial.drug} group",
                 f"{trial.n_comp} to the {trial.comparator} group"]
    records = []
    for arm, n, span in ((trial.drug, trial.n_exp, spans[0]), (trial.comparator, trial.n_comp, spans[1])):
        start = sentence.index(span)
        records.append(({"type": "arm", "arm": arm, "n": n}, start, start + len(span)))
    return sentence, records


def _trial_name(index: int) -> str:
    """'SYN-0042'; past ten thousand trials the third letter changes, since trial names carry four digits."""
    return f"SY{_NAME_LETTERS[index // 10_000 % len(_NAME_LETTERS)]}-{index % 10_000:04d}"


def _trial(index: int, seed: int) -> _Trial:
    """Everything about trial ``index`` that all its articles share: arms, sizes and results."""
    rng = random.Random(f"{seed}:trial:{index}")
    cardio = rng.random() < 0.2
    drug = rng.choice(_STEMS) + rng.choice(_STEMS[:6]) + rng.choice(_SUFFIXES)
    n_comp = rng.randrange(120, 900)
    endpoints = CARDIO_ENDPOINTS if cardio else ONCOLOGY_ENDPOINTS
    subgroups = CARDIO_SUBGROUPS if cardio else ONCOLOGY_SUBGROUPS
    results = []
    for endpoint in rng.sample(endpoints, 3):
        overall = _ratio(rng, endpoint)
        chosen = rng.sample(subgroups, rng.randint(0, 3))
        results.append((endpoint, _Result(overall, _arm_figures(rng, endpoint, overall.value),
                                          tuple((s, _ratio(rng, endpoint)) for s in chosen))))
    return _Trial(
        name=_trial_name(index),
        drug=drug,
        comparator=rng.choice(COMPARATORS_CARDIO if cardio else COMPARATORS_ONCOLOGY),
        condition=rng.choice(CONDITIONS_CARDIO if cardio else CONDITIONS_ONCOLOGY),
        sponsor=rng.choice(_SPONSORS),
        outlet="",
        notation="",
        results=tuple(results),
        n_exp=n_comp + rng.choice((0, 0, 1, 2, n_comp)),
        n_comp=n_comp,
    )


def _opening(trial: _Trial, rng: random.Random) -> str:
    if trial.outlet == "news":
        return (f"{trial.drug.capitalize()} shows benefit in {trial.condition} in the {trial.name} trial\n\n"
                f"Results of the phase III {trial.name} trial of {trial.drug} in {trial.condition} "
                f"were presented this week. ")
    if trial.outlet == "press":
        return (f"{rng.choice(_PLACES)}, {rng.choice(_MONTHS)} — {trial.sponsor} today announced results from "
                f"{trial.name}, a phase III trial of {trial.drug} in {trial.condition}.\n\n")
    if trial.outlet == "lancet":
        return (f"Summary\n\nBackground\n{trial.drug.capitalize()} is an investigational agent for "
                f"{trial.condition}. We report the {trial.name} trial.\n\nMethods\n")
    return (f"BACKGROUND\nThe role of {trial.drug} in {trial.condition} is uncertain.\n\n"
            f"METHODS\nIn the {trial.name} trial, patients were randomly assigned in a one-to-one ratio. ")


def _results_heading(trial: _Trial) -> str:
    return {"news": "\n\n", "press": "\n\n", "lancet": "\n\nFindings\n", "abstract": "\n\nRESULTS\n"}[trial.outlet]


def _closing(trial: _Trial, rng: random.Random) -> str:
    if trial.outlet == "news":
        return f"\n\n\"These data are encouraging,\" said {rng.choice(_INVESTIGATORS)}, an investigator on the study."
    if trial.outlet == "press":
        return f"\n\nAbout {trial.name}\n{trial.name} is a randomized, controlled, multicenter study."
    if trial.outlet == "lancet":
        return f"\n\nInterpretation\n{trial.drug.capitalize()} merits further study in {trial.condition}."
    return f"\n\nCONCLUSIONS\nIn {trial.condition}, {trial.drug} was compared with {trial.comparator}."


def _filler(rng: random.Random, trial: _Trial, count: int) -> str:
    bank = _FILLER[trial.outlet]
    sentences = rng.sample(bank, min(count, len(bank)))
    return " ".join(s.format(drug=trial.drug, sponsor=trial.sponsor) for s in sentences)


def _article(index: int, seed: int, per_trial: int) -> SyntheticArticle:
    rng = random.Random(f"{seed}:{index}")
    trial = dataclasses.replace(_trial(index // per_trial, seed), outlet=rng.choice(OUTLETS),
                                notation=rng.choice(NOTATIONS))
    writer = _Writer()
    writer.add(_opening(trial, rng))
    writer.add(*_arms_sentence(rng, trial))
    writer.add(" " + _filler(rng, trial, 3))
    writer.add(_results_heading(trial))

    # Each outlet tells part of the story: the lead endpoint always, others and subgroups by chance.
    told = trial.results[:rng.randint(1, len(trial.results))]
    for i, (endpoint, result) in enumerate(told):
        if i:
            writer.add(" ")
        writer.add(*_estimate_sentence(rng, trial, endpoint, None, result.overall))
        if rng.random() < 0.7:
            writer.add(" ")
            writer.add(*_arm_result_sentence(trial, endpoint, result.arms))
        for subgroup, ratio in result.subgroups:
            if rng.random() < 0.7:
                writer.add(" ")
                writer.add(*_estimate_sentence(rng, trial, endpoint, subgroup, ratio))
    writer.add(_closing(trial, rng))
    bank_size = len(_FILLER[trial.outlet])
    while writer.length < TARGET_CHARS - 150:
        writer.add(" " + _filler(rng, trial, min(bank_size, max(1, (TARGET_CHARS - writer.length) // 110))))
    name = f"syn-{index:06d}-{trial.outlet}.txt"
    for record in writer.truth:
        record["article"] = name
    return SyntheticArticle(name=name, text=writer.text, truth=writer.truth)


def generate(n_articles: int, seed: int = 0, per_trial: int = ARTICLES_PER_TRIAL) -> Iterator[SyntheticArticle]:
    """``n_articles`` articles, ``per_trial`` consecutive ones about each trial. Article ``i`` depends only
    on ``(seed, per_trial, i)``, so a larger corpus extends a smaller one made with the same arguments."""
    for index in range(n_articles):
        yield _article(index, seed, per_trial)


def write_corpus(folder: str | Path, n: int, seed: int = 0, start: int = 0,
                 per_trial: int = ARTICLES_PER_TRIAL) -> list[Path]:
    """Write articles ``start`` to ``start + n - 1`` as text files into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(start, start + n):
        article = _article(index, seed, per_trial)
        path = folder / article.name
        path.write_text(article.text, encoding="utf-8")
        paths.append(path)
    return paths
