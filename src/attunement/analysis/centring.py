"""Person-mean centring: splitting a diary predictor into within- and between-person parts.

For a time-varying predictor x measured on occasions t of persons i (Bolger & Laurenceau, 2013,
*Intensive Longitudinal Methods*, ch. 4; Enders & Tofighi, 2007, *Psychological Methods* 12,
121-138):

- within part (level 1):  x_within_ti  = x_ti - x̄_i, the deviation from the person's own mean
  (centring within cluster, CWC);
- between part (level 2): x_between_i = x̄_i - x̄, the person's mean centred at the grand mean.

Entered together in a model, the two parts give the pure within-person slope (does a person feel
closer on days they disclose more than *they* usually do?) and the between-person slope (do
people who disclose more on average feel closer?). Without the split the two are mixed.

The grand mean x̄ is, by default, the mean of the person means (each person counts once, so
people who report often do not pull the centre towards themselves); ``grand_mean="observations"``
uses the mean of all observations instead. Centring the between part changes only the model's
intercept, never a slope.

The person mean of a person with few occasions is an unreliable estimate of their true mean, and
this biases between-person slopes towards zero (Lüdtke et al., 2008; Gottfredson, 2019); a
latent-mean (multilevel SEM) model corrects this and is not implemented here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from attunement.analysis._input import require_columns, require_numeric
from attunement.errors import InvalidInputError

__all__ = ["person_mean_centre"]


def person_mean_centre(
    frame: pd.DataFrame,
    person: str,
    columns: Sequence[str],
    *,
    grand_mean: Literal["persons", "observations"] = "persons",
) -> pd.DataFrame:
    """Add ``<col>_within`` and ``<col>_between`` for each of ``columns``; return a new frame.

    ``<col>_within = x - person mean`` (missing where x is missing) and
    ``<col>_between = person mean - grand mean`` (on every row of the person, also where x is
    missing; missing only for a person with no value at all). Person means use the values
    present. Other columns and the index pass through unchanged.

    >>> import pandas as pd
    >>> diary = pd.DataFrame({"person": [1, 1, 2, 2], "disclosure": [1.0, 3.0, 4.0, 6.0]})
    >>> person_mean_centre(diary, "person", ["disclosure"])[
    ...     ["disclosure_within", "disclosure_between"]].values.tolist()
    [[-1.0, -1.5], [1.0, -1.5], [-1.0, 1.5], [1.0, 1.5]]
    """
    if isinstance(columns, str):
        columns = [columns]
    if not columns:
        raise InvalidInputError("Name at least one column to centre.")
    if grand_mean not in ("persons", "observations"):
        raise InvalidInputError(
            f"grand_mean must be 'persons' or 'observations', not {grand_mean!r}."
        )
    require_columns(frame, [person, *columns], what="person-mean centring")
    if frame[person].isna().any():
        lines = [str(i) for i in frame.index[frame[person].isna()][:20]]
        raise InvalidInputError(
            f"The person column {person!r} is empty on {int(frame[person].isna().sum())} row(s).",
            hint=f"Every row needs a person id (rows {', '.join(lines)}).",
        )
    numeric = require_numeric(frame, list(columns))
    out = frame.copy()
    groups = numeric.groupby(frame[person], sort=False, observed=True)
    for column in columns:
        values = numeric[column]
        person_mean = groups[column].transform("mean")
        centre = groups[column].mean().mean() if grand_mean == "persons" else values.mean()
        out[f"{column}_within"] = values - person_mean
        out[f"{column}_between"] = person_mean - centre
    return out
