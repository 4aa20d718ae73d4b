# ruff: noqa: RUF001 (Chinese is written with Chinese punctuation: full-width commas)
"""What a visitor reads when a field needs attention, in the form's languages (English otherwise)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "required": {
        "en": "This field is required.",
        "fr": "Ce champ est obligatoire.",
        "de": "Dieses Feld ist erforderlich.",
        "es": "Este campo es obligatorio.",
        "ko": "필수 항목입니다.",
        "zh": "此项为必填项。",
    },
    "checkbox": {
        "en": "Tick this box to continue.",
        "fr": "Cochez cette case pour continuer.",
        "de": "Kreuzen Sie dieses Feld an, um fortzufahren.",
        "es": "Marque esta casilla para continuar.",
        "ko": "계속하려면 이 칸을 선택하세요.",
        "zh": "请勾选此项以继续。",
    },
    "too_long": {
        "en": "Use at most {limit} characters.",
        "fr": "Utilisez au plus {limit} caractères.",
        "de": "Verwenden Sie höchstens {limit} Zeichen.",
        "es": "Use como máximo {limit} caracteres.",
        "ko": "{limit}자 이내로 입력하세요.",
        "zh": "最多输入 {limit} 个字符。",
    },
    "email": {
        "en": "Enter an email address like name@example.com.",
        "fr": "Saisissez une adresse e-mail comme nom@exemple.com.",
        "de": "Geben Sie eine E-Mail-Adresse wie name@beispiel.de ein.",
        "es": "Introduzca un correo electrónico como nombre@ejemplo.com.",
        "ko": "name@example.com 형식의 이메일 주소를 입력하세요.",
        "zh": "请输入电子邮件地址，例如 name@example.com。",
    },
    "phone": {
        "en": "Enter a phone number, digits with an optional leading +.",
        "fr": "Saisissez un numéro de téléphone, des chiffres précédés ou non de +.",
        "de": "Geben Sie eine Telefonnummer ein, Ziffern mit optionalem + am Anfang.",
        "es": "Introduzca un número de teléfono, dígitos con un + inicial opcional.",
        "ko": "전화번호를 숫자로 입력하세요(맨 앞에 + 가능).",
        "zh": "请输入电话号码，可以 + 开头，其余为数字。",
    },
    "url": {
        "en": "Enter a web address starting with http:// or https://.",
        "fr": "Saisissez une adresse web commençant par http:// ou https://.",
        "de": "Geben Sie eine Webadresse ein, die mit http:// oder https:// beginnt.",
        "es": "Introduzca una dirección web que empiece por http:// o https://.",
        "ko": "http:// 또는 https://로 시작하는 웹 주소를 입력하세요.",
        "zh": "请输入以 http:// 或 https:// 开头的网址。",
    },
    "number": {
        "en": "Enter a number.",
        "fr": "Saisissez un nombre.",
        "de": "Geben Sie eine Zahl ein.",
        "es": "Introduzca un número.",
        "ko": "숫자를 입력하세요.",
        "zh": "请输入数字。",
    },
    "choice": {
        "en": "Choose one of the listed options.",
        "fr": "Choisissez l'une des options proposées.",
        "de": "Wählen Sie eine der aufgeführten Optionen.",
        "es": "Elija una de las opciones de la lista.",
        "ko": "목록에 있는 항목 중 하나를 선택하세요.",
        "zh": "请从列表中选择一项。",
    },
    "files_required": {
        "en": "Attach at least one file.",
        "fr": "Joignez au moins un fichier.",
        "de": "Hängen Sie mindestens eine Datei an.",
        "es": "Adjunte al menos un archivo.",
        "ko": "파일을 하나 이상 첨부하세요.",
        "zh": "请至少附加一个文件。",
    },
    "too_many_files": {
        "en": "Attach at most {count} files.",
        "fr": "Joignez au plus {count} fichiers.",
        "de": "Hängen Sie höchstens {count} Dateien an.",
        "es": "Adjunte como máximo {count} archivos.",
        "ko": "파일은 최대 {count}개까지 첨부할 수 있습니다.",
        "zh": "最多可附加 {count} 个文件。",
    },
    "file_too_large": {
        "en": "Each file must be at most {limit}.",
        "fr": "Chaque fichier doit faire au plus {limit}.",
        "de": "Jede Datei darf höchstens {limit} groß sein.",
        "es": "Cada archivo debe ocupar como máximo {limit}.",
        "ko": "각 파일은 {limit} 이하여야 합니다.",
        "zh": "每个文件不能超过 {limit}。",
    },
}


def say(key: str, locale: str, **values: object) -> str:
    texts = MESSAGES[key]
    text = texts.get(locale) or texts.get(locale.split("-")[0]) or texts["en"]
    return text.format(**values)
