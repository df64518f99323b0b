//! The explorer's state as it travels in the URL: parsed from the query string (an empty field
//! means "any", as a form submits it), checked, and written back for the paging links, so that
//! any view can be bookmarked or shared.

use coopfolio_core::country::{Countries, IloRegion};
use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_store::portal::{Marker, ProjectQuery, ProjectSort};
use serde::{Deserialize, Serialize};

use crate::error::WebError;

/// Rows per explorer page.
pub const PAGE_SIZE: u32 = 50;

/// The query string as given; every field text, so that a bad value gets a message that names
/// it instead of a bare deserialisation failure.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExplorerParams {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub country: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub area: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub year: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub partner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modality: String,
    /// The markers, each "1" when required (a checked box) and empty or absent otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub south_south: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub triangular: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub joint_un: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mptf: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sort: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub page: String,
}

/// The sort codes the URL uses, in the order the form lists them.
pub const SORTS: [(&str, ProjectSort); 4] = [
    ("title", ProjectSort::Title),
    ("start_desc", ProjectSort::StartNewest),
    ("start_asc", ProjectSort::StartOldest),
    ("end_desc", ProjectSort::EndLatest),
];

impl ExplorerParams {
    /// The store query these parameters ask for, or what is wrong with them.
    pub fn to_query(&self) -> Result<ProjectQuery, WebError> {
        let given = |text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_owned())
        };
        let country = match given(&self.country) {
            Some(code) => match Countries::bundled().get(&code) {
                Some(country) => Some(country.alpha2.clone()),
                None => {
                    return Err(WebError::BadRequest(format!(
                        "'{code}' is not a country code (ISO 3166-1, such as KE or KEN)"
                    )))
                }
            },
            None => None,
        };
        let region = given(&self.region)
            .map(|code| code.parse::<IloRegion>())
            .transpose()
            .map_err(WebError::BadRequest)?;
        let policy_area = given(&self.area)
            .map(|code| code.parse::<PolicyArea>())
            .transpose()
            .map_err(WebError::BadRequest)?;
        let year = given(&self.year)
            .map(|text| match text.parse::<i32>() {
                Ok(year) if (1900..=2200).contains(&year) => Ok(year),
                _ => Err(WebError::BadRequest(format!(
                    "'{text}' is not a year (four digits, such as 2023)"
                ))),
            })
            .transpose()?;
        let partner_group = given(&self.group)
            .map(|code| code.parse::<PartnerGroup>())
            .transpose()
            .map_err(WebError::BadRequest)?;
        let modality = given(&self.modality)
            .map(|code| code.parse::<Modality>())
            .transpose()
            .map_err(WebError::BadRequest)?;
        let mut markers = Vec::new();
        for marker in Marker::ALL {
            if let Some(value) = given(self.marker(marker)) {
                match value.as_str() {
                    "1" | "true" | "on" => markers.push(marker),
                    "0" | "false" | "off" => {}
                    _ => {
                        return Err(WebError::BadRequest(format!(
                            "'{value}' is not a value for {}: expected 1 (required) or nothing",
                            marker.code()
                        )))
                    }
                }
            }
        }
        let sort = match given(&self.sort) {
            None => ProjectSort::default(),
            Some(code) => SORTS
                .iter()
                .find(|(name, _)| *name == code)
                .map(|(_, sort)| *sort)
                .ok_or_else(|| {
                    WebError::BadRequest(format!(
                        "'{code}' is not a sort order: expected one of title, start_desc, start_asc, end_desc"
                    ))
                })?,
        };
        let page = match given(&self.page) {
            None => 1,
            Some(text) => match text.parse::<u32>() {
                Ok(page) if page >= 1 => page,
                _ => {
                    return Err(WebError::BadRequest(format!(
                        "'{text}' is not a page number (1 or more)"
                    )))
                }
            },
        };
        Ok(ProjectQuery {
            country,
            region,
            policy_area,
            status: given(&self.status),
            year,
            text: given(&self.q),
            partner: given(&self.partner),
            partner_group,
            modality,
            markers,
            sort,
            page,
            page_size: PAGE_SIZE,
        })
    }

    /// The marker's field.
    pub fn marker(&self, marker: Marker) -> &str {
        match marker {
            Marker::SouthSouth => &self.south_south,
            Marker::Triangular => &self.triangular,
            Marker::JointUn => &self.joint_un,
            Marker::Mptf => &self.mptf,
        }
    }

    /// The explorer's URL for the same view on another page.
    pub fn url_for_page(&self, page: u32) -> String {
        let mut params = self.clone();
        params.page = if page == 1 {
            String::new()
        } else {
            page.to_string()
        };
        params.url("/projects")
    }

    /// A download of the same view, every page: `/projects.csv?...` for `extension` "csv".
    pub fn download_url(&self, extension: &str) -> String {
        let mut params = self.clone();
        params.page = String::new();
        params.url(&format!("/projects.{extension}"))
    }

    fn url(&self, path: &str) -> String {
        match serde_urlencoded::to_string(self) {
            Ok(query) if !query.is_empty() => format!("{path}?{query}"),
            _ => path.to_owned(),
        }
    }
}
