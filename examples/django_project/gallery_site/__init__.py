"""The gallery example project: settings, URLs and views in one package."""
