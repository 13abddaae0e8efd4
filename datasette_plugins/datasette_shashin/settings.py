"""The plugin's one name and its settings."""

#: The plugin's name in Datasette: its settings key and the folder of its static files, which
#: Datasette names after the distribution (shashin), as it does the plugin in /-/plugins.
PLUGIN = "shashin"
#: The settings key of earlier versions, still read when there is no ``shashin`` key.
OLD_PLUGIN = "shashin-review"


def config(datasette):
    """The plugin's settings (metadata on Datasette 0.65, datasette.yaml on 1.0)."""
    found = datasette.plugin_config(PLUGIN)
    return (found if found is not None else datasette.plugin_config(OLD_PLUGIN)) or {}
