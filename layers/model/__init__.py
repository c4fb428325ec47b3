"""The prospectivity model: its declaration (:mod:`.model_spec`), evidence kinds (:mod:`.evidence`) and
membership rules (:mod:`.rules`), the tiled grid run (:mod:`.prospectivity`), the score spread
(:mod:`.uncertainty`), one cell explained (:mod:`.explain`), the overlays' styles and legends
(:mod:`.overlay`, :mod:`.grid_styles`) and the validation figures (:mod:`.reports`)."""
