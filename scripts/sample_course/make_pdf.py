"""Generate 03-inference.pdf, the sample course's PDF module: one topic per page so citations read "page N".

Usage: .venv/bin/python scripts/sample_course/make_pdf.py [OUTPUT]
The text is original, written for this project. Re-running gives the same text content (reportlab stamps
creation dates, so the bytes differ; `invariant=1` keeps them stable).
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

TITLE = "Statistical Inference"

PAGES: list[tuple[str, list[str]]] = [
    (
        "Populations, samples and sampling",
        [
            "Statistical inference is the art of drawing conclusions about a large group from a smaller set of "
            "observations. The large group we want to learn about is the population, and the numbers that "
            "describe it, such as its mean or the proportion of its members who hold some opinion, are called "
            "parameters. We almost never measure an entire population, so we study a sample and compute "
            "statistics from it instead.",
            "How the sample is chosen matters more than how large it is. In a simple random sample every "
            "possible group of the chosen size has the same chance of being selected, which protects us from "
            "favouring one kind of individual over another. A convenience sample, such as asking the first "
            "people who walk past a shop, usually over-represents some groups and leads to bias: an error that "
            "does not shrink no matter how many people we ask.",
            "Other designs improve on simple random sampling. A stratified sample divides the population into "
            "groups that are similar inside, for example age bands, and draws a random sample within each "
            "group. A cluster sample selects whole groups at random, such as entire schools, which is cheaper "
            "when individuals are spread over a wide area.",
        ],
    ),
    (
        "Sampling distributions and the central limit theorem",
        [
            "If we took many different random samples of the same size, each would give a slightly different "
            "sample mean. The distribution of these values across all possible samples is the sampling "
            "distribution of the mean. Its center is the population mean, which is why the sample mean is "
            "called an unbiased estimator.",
            "The spread of the sampling distribution is measured by the standard error. For the sample mean "
            "the standard error equals the population standard deviation divided by the square root of the "
            "sample size. Quadrupling the sample size therefore only halves the standard error, a fact that "
            "explains why very precise surveys become expensive quickly.",
            "The central limit theorem states that for reasonably large samples the sampling distribution of "
            "the mean is approximately normal, whatever the shape of the population distribution. A common "
            "guideline treats samples of thirty or more observations as large enough, although strongly skewed "
            "populations need more. This result is what allows normal-based methods to be used so widely.",
        ],
    ),
    (
        "Confidence intervals",
        [
            "A point estimate, such as a single sample mean, says nothing about how far it might be from the "
            "truth. A confidence interval adds a margin of error around the estimate to give a range of "
            "plausible values for the parameter. A typical interval has the form estimate plus or minus a "
            "critical value multiplied by the standard error.",
            "The confidence level describes the method rather than any one interval. A 95 percent confidence "
            "level means that if we repeated the sampling many times, about 95 percent of the intervals built "
            "this way would contain the true parameter. It does not mean there is a 95 percent probability that "
            "the parameter lies inside the particular interval we computed.",
            "Three things control the width of an interval. A higher confidence level makes it wider, a larger "
            "sample makes it narrower, and more variability in the data makes it wider. When the population "
            "standard deviation is unknown, which is almost always, we replace it with the sample standard "
            "deviation and use the t distribution, whose heavier tails account for the extra uncertainty.",
        ],
    ),
    (
        "Hypothesis testing and p-values",
        [
            "A hypothesis test weighs evidence against a default claim. The null hypothesis states that there is "
            "no effect or no difference, for instance that a new teaching method gives the same average score "
            "as the old one. The alternative hypothesis states what we suspect instead, for example that the new "
            "method raises the average score.",
            "From the sample we compute a test statistic that measures how far the data fall from what the null "
            "hypothesis predicts, in units of standard errors. The p-value is the probability of obtaining a "
            "test statistic at least as extreme as the one observed, assuming the null hypothesis is true. A "
            "small p-value means the data would be surprising if the null hypothesis held.",
            "Before looking at the data we choose a significance level, often 0.05. If the p-value falls below "
            "it, we reject the null hypothesis and call the result statistically significant. If not, we fail to "
            "reject it, which is not the same as proving it true: the sample may simply have been too small to "
            "reveal a real effect.",
        ],
    ),
    (
        "Errors, power and practical significance",
        [
            "Every test can go wrong in two ways. A Type I error rejects a null hypothesis that is actually "
            "true, a false alarm whose probability equals the significance level. A Type II error fails to "
            "reject a null hypothesis that is actually false, a missed discovery.",
            "The power of a test is the probability that it correctly rejects a false null hypothesis, that is, "
            "one minus the probability of a Type II error. Power grows with the sample size, with the size of "
            "the true effect and with the significance level. Planning a study includes choosing a sample large "
            "enough to reach a power of about 80 percent for the smallest effect worth detecting.",
            "Statistical significance is not the same as practical importance. With a huge sample, a difference "
            "of a fraction of a point between two teaching methods can produce a tiny p-value while being too "
            "small to matter to anyone. Reporting an effect size together with a confidence interval shows how "
            "large the effect is, not only whether it exists.",
        ],
    ),
]


def build(output: Path) -> None:
    styles = getSampleStyleSheet()
    story = [Paragraph(TITLE, styles["Title"])]
    for number, (heading, paragraphs) in enumerate(PAGES):
        if number:
            story.append(PageBreak())
        story.append(Paragraph(heading, styles["Heading2"]))
        for text in paragraphs:
            story.append(Paragraph(text, styles["BodyText"]))
            story.append(Spacer(1, 0.25 * cm))
    document = SimpleDocTemplate(
        str(output), pagesize=A4, title=TITLE, author="Learning Middleware sample course", invariant=1
    )
    document.build(story)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("03-inference.pdf")
    build(target)
    print(f"wrote {target} ({target.stat().st_size} bytes)")
