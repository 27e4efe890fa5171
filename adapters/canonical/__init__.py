"""The canonical model: what a document or a dossier means, whatever format carried it.

``document`` holds Document and DocumentStatus (docflow ↔ edXML); ``dossier`` holds Dossier and
DossierProgress (one-stop ↔ DVCQG). Import from the submodules.
"""
