"""The SOAP partner API's `login()` call, which simple-salesforce uses for username/password logins.

Only `login` is simulated: it turns a username and password (with the security token appended)
into a session id usable on the REST API, answering in the partner WSDL's envelope, or a
`sf:INVALID_LOGIN` fault with HTTP 500 as Salesforce does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from syncline.sandbox.salesforce.auth import OAuthError, OAuthServer

ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


def _text(root: ET.Element, name: str) -> str:
    node = root.find(f".//{{{PARTNER}}}{name}")
    return (node.text or "") if node is not None else ""


def login_fault(code: str, message: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE}" xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def soap_login(oauth: OAuthServer, body: bytes, instance_url: str, version: str) -> tuple[int, str]:
    """(HTTP status, XML) for a SOAP login request body."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return 500, login_fault("INVALID_LOGIN", "malformed SOAP request")
    try:
        token, user = oauth.soap_login(_text(root, "username"), _text(root, "password"))
    except OAuthError:
        return 500, login_fault("INVALID_LOGIN", INVALID_LOGIN)
    server = f"{instance_url}/services/Soap/u/{version}/{oauth.org_id[:15]}"
    return 200, (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE}" xmlns="{PARTNER}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{instance_url}/services/Soap/m/{version}/{oauth.org_id[:15]}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{server}</serverUrl><sessionId>{escape(token)}</sessionId><userId>{user.id}</userId>"
        f"<userInfo><organizationId>{oauth.org_id}</organizationId><userEmail>{escape(user.email)}</userEmail>"
        f"<userFullName>{escape(user.first_name)} {escape(user.last_name)}</userFullName>"
        f"<userId>{user.id}</userId><userName>{escape(user.username)}</userName></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


__all__ = ["login_fault", "soap_login"]
