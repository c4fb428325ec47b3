"""Validation of the prospectivity scores against the known sites (issue 19, "validation v2").

``clusters``: the validation sites (sites of one type closer than max(2 km, their combined
uncertainty) are one) and what each leaves out when it is held out; ``cells``: the per-tile part
(each validation site's best cell within its uncertainty, the ablation variants, the null domains'
block maxima), merged in grid order; ``stats``: the AUCs, the two nulls, the ablation, the tiers and
the verdicts; ``page``: build/reports/validation.html.
"""
