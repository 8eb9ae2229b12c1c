"""Bank, gateway, IVR and crypto statement files (OFX/QFX, CAMT, CSV/XLSX through profiles) into statement lines."""
