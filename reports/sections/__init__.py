"""Report sections: each computes its numbers in code from a skill's client and returns a Section."""

from reports.sections.amplitude import amplitude_section
from reports.sections.grafana import grafana_section

__all__ = ["amplitude_section", "grafana_section"]
