"""What a visitor reads when a field needs attention, in the form's languages (English otherwise)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "required": {
        "en": "This field is required.",
        "fr": "Ce champ est obligatoire.",
        "de": "Dieses Feld ist erforderlich.",
        "es": "Este campo es obligatorio.",
    },
    "checkbox": {
        "en": "Tick this box to continue.",
        "fr": "Cochez cette case pour continuer.",
        "de": "Kreuzen Sie dieses Feld an, um fortzufahren.",
        "es": "Marque esta casilla para continuar.",
    },
    "too_long": {
        "en": "Use at most {limit} characters.",
        "fr": "Utilisez au plus {limit} caractères.",
        "de": "Verwenden Sie höchstens {limit} Zeichen.",
        "es": "Use como máximo {limit} caracteres.",
    },
    "email": {
        "en": "Enter an email address like name@example.com.",
        "fr": "Saisissez une adresse e-mail comme nom@exemple.com.",
        "de": "Geben Sie eine E-Mail-Adresse wie name@beispiel.de ein.",
        "es": "Introduzca un correo electrónico como nombre@ejemplo.com.",
    },
    "phone": {
        "en": "Enter a phone number, digits with an optional leading +.",
        "fr": "Saisissez un numéro de téléphone, des chiffres précédés ou non de +.",
        "de": "Geben Sie eine Telefonnummer ein, Ziffern mit optionalem + am Anfang.",
        "es": "Introduzca un número de teléfono, dígitos con un + inicial opcional.",
    },
    "url": {
        "en": "Enter a web address starting with http:// or https://.",
        "fr": "Saisissez une adresse web commençant par http:// ou https://.",
        "de": "Geben Sie eine Webadresse ein, die mit http:// oder https:// beginnt.",
        "es": "Introduzca una dirección web que empiece por http:// o https://.",
    },
    "number": {
        "en": "Enter a number.",
        "fr": "Saisissez un nombre.",
        "de": "Geben Sie eine Zahl ein.",
        "es": "Introduzca un número.",
    },
    "choice": {
        "en": "Choose one of the listed options.",
        "fr": "Choisissez l'une des options proposées.",
        "de": "Wählen Sie eine der aufgeführten Optionen.",
        "es": "Elija una de las opciones de la lista.",
    },
    "files_required": {
        "en": "Attach at least one file.",
        "fr": "Joignez au moins un fichier.",
        "de": "Hängen Sie mindestens eine Datei an.",
        "es": "Adjunte al menos un archivo.",
    },
    "too_many_files": {
        "en": "Attach at most {count} files.",
        "fr": "Joignez au plus {count} fichiers.",
        "de": "Hängen Sie höchstens {count} Dateien an.",
        "es": "Adjunte como máximo {count} archivos.",
    },
    "file_too_large": {
        "en": "Each file must be at most {limit}.",
        "fr": "Chaque fichier doit faire au plus {limit}.",
        "de": "Jede Datei darf höchstens {limit} groß sein.",
        "es": "Cada archivo debe ocupar como máximo {limit}.",
    },
}


def say(key: str, locale: str, **values: object) -> str:
    texts = MESSAGES[key]
    text = texts.get(locale) or texts.get(locale.split("-")[0]) or texts["en"]
    return text.format(**values)
